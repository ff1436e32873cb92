# Golden values for test/models/arbex.test.ts: the reference ARBEx SelfAttn (Q/K/V Linear, then
# nn.MultiheadAttention on 2-D input, softmax, sum over anchors) with deterministic weights, in
# its cross-batch form and one sample at a time. Run: /usr/bin/python3 test/models/golden/arbex_attention.py
import math, torch
torch.set_printoptions(precision=7)
C, KA, D, B, H = 3, 2, 5, 3, 2
E = C * KA

def w(shape, s):  # W[o][i] = 0.5 sin(0.9 o + 1.7 i + s) (PyTorch layout [out, in])
    return torch.tensor([[0.5 * math.sin(0.9 * o + 1.7 * i + s) for i in range(shape[1])] for o in range(shape[0])], dtype=torch.float64)
def b(n, s):
    return torch.tensor([0.1 * math.cos(1.3 * o + s) for o in range(n)], dtype=torch.float64)

class SelfAttn(torch.nn.Module):  # same computation as arbex/models/attn.py
    def __init__(self):
        super().__init__()
        self.Q, self.K, self.V = (torch.nn.Linear(D, E) for _ in range(3))
        self.attn_fn = torch.nn.MultiheadAttention(E, num_heads=H)
    def forward(self, x):
        o, _ = self.attn_fn(self.Q(x), self.K(x), self.V(x))
        return torch.softmax(o, -1).view(-1, C, KA).sum(-1)

m = SelfAttn().double()
with torch.no_grad():
    for k, (name, s) in enumerate([('Q', 0.1), ('K', 0.2), ('V', 0.3)]):
        getattr(m, name).weight.copy_(w((E, D), s)); getattr(m, name).bias.copy_(b(E, s))
    m.attn_fn.in_proj_weight.copy_(w((3 * E, E), 0.4)); m.attn_fn.in_proj_bias.copy_(b(3 * E, 0.4))
    m.attn_fn.out_proj.weight.copy_(w((E, E), 0.5)); m.attn_fn.out_proj.bias.copy_(b(E, 0.5))
x = torch.tensor([[math.sin(0.5 * r + 0.8 * j) + 0.2 * j for j in range(D)] for r in range(B)], dtype=torch.float64)
with torch.no_grad():
    print('batch', m(x).tolist())
    print('sample', torch.cat([m(x[r:r + 1]) for r in range(B)]).tolist())
