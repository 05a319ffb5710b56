"""Distillation terms: attention maps' and softened predictions' KL divergences."""

import torch
from torch.nn import functional as F


def attention_kl(teacher_attention, student_attention, target, n_nodes, nodes=None):
    r"""Mean over nodes of the KL divergence between two attention maps on the same edges.

    Heads are averaged first, so teacher and student may have different head counts:
    an average of per-head distributions over a node's incoming edges is itself one.

    .. math::
        \bar a_{ij} = \frac{1}{K} \sum_{k=1}^{K} a_{ij}^k, \qquad
        \mathcal{L}_{att} = \frac{1}{n} \sum_{i=1}^{n} \sum_{j \in \mathcal{N}(i) \cup \{i\}}
        \bar a^T_{ij} \log \frac{\bar a^T_{ij}}{\bar a^S_{ij}}

    Parameters
    ----------
    teacher_attention : Tensor of shape (n_edges, teacher_heads)
        Teacher's attention weights (the target distribution).
    student_attention : Tensor of shape (n_edges, student_heads)
        Student's attention weights along the same edges, in the same order.
    target : Tensor of shape (n_edges,)
        Target node of each edge (``attention_index[1]``).
    n_nodes : int
        Number of nodes.
    nodes : Tensor of shape (n,), default=None
        The nodes :math:`i` to average over (their KL divergences; other nodes' edges
        are ignored); None: all ``n_nodes``.

    Returns
    -------
    loss : Tensor of shape ()
        The mean KL divergence; zero when the head-averaged maps are equal.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._distillation_loss import attention_kl
    >>> target = torch.tensor([0, 0, 1])
    >>> teacher = torch.tensor([[0.5, 0.5], [0.5, 0.5], [1.0, 1.0]])
    >>> float(attention_kl(teacher, teacher[:, :1], target, 2))
    0.0
    """
    from torch_geometric.utils import scatter

    if teacher_attention.shape[0] != student_attention.shape[0]:
        raise ValueError(
            f"Teacher and student attend along different edges: {teacher_attention.shape[0]} "
            f"and {student_attention.shape[0]} attention weights."
        )
    teacher = teacher_attention.mean(dim=1)
    student = student_attention.mean(dim=1)
    tiny = torch.finfo(student.dtype).tiny
    terms = torch.xlogy(teacher, teacher) - teacher * torch.log(student.clamp_min(tiny))
    per_node = scatter(terms, target, dim=0, dim_size=n_nodes, reduce="sum")
    return (per_node if nodes is None else per_node[nodes]).mean()


def soft_label_kl(teacher_logits, student_logits, temperature):
    r"""Mean over nodes of the KL divergence between temperature-softened predictions.

    .. math::
        \mathcal{L}_{soft} = \frac{\tau^2}{n} \sum_{i=1}^{n}
        \operatorname{KL}\big(\operatorname{softmax}(z^T_i / \tau) \,\big\|\,
        \operatorname{softmax}(z^S_i / \tau)\big)

    The factor :math:`\tau^2` keeps the gradient's scale independent of the
    temperature (Hinton et al., 2015).

    Parameters
    ----------
    teacher_logits : Tensor of shape (n_nodes, n_classes)
        Teacher's class scores :math:`z^T`.
    student_logits : Tensor of shape (n_nodes, n_classes)
        Student's class scores :math:`z^S`.
    temperature : float
        Softening temperature :math:`\tau > 0`.

    Returns
    -------
    loss : Tensor of shape ()
        Zero when the softened predictions are equal.

    Examples
    --------
    >>> import torch
    >>> from skgkedm.nn._distillation_loss import soft_label_kl
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    >>> float(soft_label_kl(logits, logits + 3.0, temperature=2.0))
    0.0
    """
    teacher = F.log_softmax(teacher_logits / temperature, dim=1)
    student = F.log_softmax(student_logits / temperature, dim=1)
    kl = (teacher.exp() * (teacher - student)).sum(dim=1).mean()
    return kl * temperature**2


class DistillationLoss:
    """``extra_loss(output, batch)`` for the student: the weighted distillation terms.

    ``teacher_output(graph)`` gives the teacher's ``NetworkOutput`` on the graph the
    student just ran on, on that graph's device: computed once for a node classifier's
    single training graph, or by running the teacher on each mini-batch of graphs.
    With ``seeds_only`` (nodes on neighbour-sampled mini-batches) both terms average
    over the batch's target nodes only: the outer sampled nodes have truncated
    neighbourhoods (at the last hop, attention maps of a self-loop alone), and counting
    them would shrink the terms as fan-out and batch size grow.
    """

    def __init__(self, teacher_output, attention_weight, soft_label_weight, temperature,
                 seeds_only=False):  # fmt: skip
        self.teacher_output = teacher_output
        self.attention_weight = attention_weight
        self.soft_label_weight = soft_label_weight
        self.temperature = temperature
        self.seeds_only = seeds_only

    def __call__(self, output, batch):
        graph = batch.graph
        teacher = self.teacher_output(graph)
        seeds = torch.unique(batch.rows) if self.seeds_only else None
        loss = output.logits.new_zeros(())
        if self.attention_weight > 0:
            target = graph.attention_layout.target
            n_nodes = graph.x.shape[0]
            teacher_attention, student_attention = teacher.attention, output.attention
            if seeds is not None:
                # Trimmed networks attend along a prefix of the edges (those into the
                # nodes of the first hops, the seeds' first): compare the common one.
                n_edges = min(teacher_attention.shape[0], student_attention.shape[0])
                teacher_attention = teacher_attention[:n_edges]
                student_attention = student_attention[:n_edges]
                target = target[:n_edges]
            kl = attention_kl(teacher_attention, student_attention, target, n_nodes, seeds)
            loss = loss + self.attention_weight * kl
        if self.soft_label_weight > 0:
            teacher_logits, student_logits = teacher.logits, output.logits
            if seeds is not None:
                teacher_logits, student_logits = teacher_logits[seeds], student_logits[seeds]
            kl = soft_label_kl(teacher_logits, student_logits, self.temperature)
            loss = loss + self.soft_label_weight * kl
        return loss
