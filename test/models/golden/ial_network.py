# PyTorch side of test/models/ial-torch.test.ts: the IAL + GCA network written in PyTorch from
# methods.md §1.4-1.8 (NCHW, float64), loaded with ferkit's weights (torch layout, same names) and
# run in eval and then training mode on the same clips. Shapes come from the file's metadata.
# Run: /usr/bin/python3 test/models/golden/ial_network.py in.safetensors out.safetensors
import json, math, struct, sys
import torch
import torch.nn as nn
import torch.nn.functional as F

DT = {'F32': torch.float32, 'I32': torch.int32}

def read_st(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    meta = header.pop('__metadata__', {})
    body = raw[8 + n:]
    out = {}
    for k, v in header.items():
        a, b = v['data_offsets']
        t = torch.frombuffer(bytearray(body[a:b]), dtype=DT[v['dtype']]) if b > a else torch.zeros(0, dtype=DT[v['dtype']])
        out[k] = t.reshape(v['shape']).clone()
    return out, meta

def write_st(path, tensors):
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        header[k] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b); off += len(b)
    h = json.dumps(header).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    open(path, 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))

class GELU(nn.Module):
    def forward(self, x):
        return 0.5 * x * (1 + torch.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

class Attention(nn.Module):
    def __init__(self, dim, heads, dh):
        super().__init__()
        self.heads, self.dh = heads, dh
        self.to_qkv = nn.Linear(dim, 3 * heads * dh, bias=False)
        self.to_out = nn.Sequential(nn.Linear(heads * dh, dim))
    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = (t.reshape(b, n, self.heads, self.dh).transpose(1, 2) for t in self.to_qkv(x).chunk(3, -1))
        a = torch.softmax(q @ k.transpose(-1, -2) * self.dh ** -0.5, -1)
        return self.to_out((a @ v).transpose(1, 2).reshape(b, n, -1))

class FeedForward(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, hidden), GELU(), nn.Dropout(0.0), nn.Linear(hidden, dim))
    def forward(self, x):
        return self.net(x)

class PreNorm(nn.Module):
    def __init__(self, dim, fn):
        super().__init__()
        self.norm, self.fn = nn.LayerNorm(dim), fn
    def forward(self, x):
        return self.fn(self.norm(x))

class Residual(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn
    def forward(self, x):
        return x + self.fn(x)

class Transformer(nn.Module):
    def __init__(self, dim, t):
        super().__init__()
        self.layers = nn.ModuleList([nn.ModuleList([Residual(PreNorm(dim, Attention(dim, t['heads'], t['dimHead']))),
                                                    Residual(PreNorm(dim, FeedForward(dim, t['mlpDim'])))]) for _ in range(t['depth'])])
    def forward(self, x):
        for a, f in self.layers:
            x = f(a(x))
        return x

class GCA(nn.Module):
    def __init__(self, c, k, r):
        super().__init__()
        self.gc = nn.Sequential(nn.Conv2d(c, c, k, groups=c, bias=False))
        self.fc1 = nn.Sequential(nn.Conv2d(c, max(1, c // r), 1, bias=False), nn.ReLU())
        self.fc2 = nn.Sequential(nn.Conv2d(max(1, c // r), c, 1, bias=False), nn.Sigmoid())
    def forward(self, out, T):
        b, c = out.shape[:2]
        g = self.gc(out)                                  # (b, c, 1, 1)
        w = 2 * self.fc2(self.fc1(g))
        m = w.view(b // T, T, c).mean(1, keepdim=True).expand(-1, T, -1).reshape(b, c, 1, 1)
        return out * torch.sqrt(w * m + 1e-5), g.view(b // T, T, c).mean(1)

def conv(cin, cout, k, s):
    return nn.Conv2d(cin, cout, k, stride=s, padding=k // 2, bias=False)

class Block(nn.Module):
    def __init__(self, cin, cout, s, kmap, gca, r, classes):
        super().__init__()
        self.conv1, self.bn1 = conv(cin, cout, 3, s), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv(cout, cout, 3, 1), nn.BatchNorm2d(cout)
        self.downsample = nn.Sequential(conv(cin, cout, 1, s), nn.BatchNorm2d(cout)) if s != 1 or cin != cout else None
        self.attn = GCA(cout, kmap, r) if gca else None
        self.AUX_fc = nn.Sequential(nn.Linear(cout, 2 * cout, bias=False), nn.Linear(2 * cout, classes, bias=False)) if gca else None
    def forward(self, x, T):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        aux = None
        if self.attn is not None:
            out, d = self.attn(out, T)
            aux = self.AUX_fc(d)
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x)), aux

def halve(n):
    return (n - 1) // 2 + 1

class DSF(nn.Module):
    def __init__(self, c, blocks, kmap, spatial):
        super().__init__()
        self.layer4 = nn.ModuleList([Block(c, c, 2 if i == 0 else 1, 0, False, 1, 0) for i in range(blocks)])
        self.patch_embedding = nn.Sequential(conv(c, c, 3, 2), nn.BatchNorm2d(c), nn.ReLU())
        self.pos_transformer = Transformer(c, spatial)
        self.pos_embedding_pos = nn.Parameter(torch.zeros(1, halve(kmap) ** 2, c))
    def forward(self, x, T):
        b, c, h, w = x.shape
        v = x.view(b // T, T, c, h, w)
        act = (v[:, 1:] - v[:, :-1]).reshape(-1, c, h, w)
        p = self.patch_embedding(v[:, :-1].reshape(-1, c, h, w))
        hh, ww = p.shape[2:]
        p = self.pos_transformer(p.view(-1, c, hh * ww).transpose(1, 2) + self.pos_embedding_pos)
        p = p.transpose(1, 2).reshape(-1, c, hh, ww)
        for blk in self.layer4:
            act, _ = blk(act, T - 1)
        return p + act

class Net(nn.Module):
    def __init__(self, o):
        super().__init__()
        c1, c2, c3 = o['widths']
        T = o['frames']
        self.conv1 = nn.Sequential(conv(o['inChannels'], c1, 3, 2), nn.BatchNorm2d(c1), nn.ReLU(), conv(c1, c1, 3, 1))
        self.bn1 = nn.BatchNorm2d(c1)
        side = halve(halve(o['size'][0]))
        cin, self.stages = c1, []
        for i, cout in enumerate([c1, c2, c3]):
            s = 1 if i == 0 else 2
            side = side if s == 1 else halve(side)
            gca = (i + 1) in o['attentionStages']
            stage = nn.ModuleList([Block(cin if j == 0 else cout, cout, s if j == 0 else 1, side, gca, o['reduction'], o['numClasses']) for j in range(o['layers'][i])])
            setattr(self, f'layer{i + 1}', stage)
            self.stages.append(stage)
            cin = cout
        self.dsf = DSF(c3, o['layers'][3], side, o['spatial'])
        dim = c3 * halve(side) ** 2
        self.temporal_transformer = Transformer(dim, o['temporal'])
        self.pos_embedding = nn.Parameter(torch.zeros(1, T, dim))
        self.T = T
    def forward(self, x):
        n, T = x.shape[:2]
        x = x.reshape(n * T, *x.shape[2:])
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        aux = {}
        for i, stage in enumerate(self.stages):
            for blk in stage:
                x, a = blk(x, T)
                if a is not None:
                    aux[f'aux{i + 1}'] = a
        f = self.dsf(x, T)
        tok = f.reshape(n, T - 1, -1) + self.pos_embedding[:, :T - 1]
        return self.temporal_transformer(tok).mean(1), aux

class Model(nn.Module):
    def __init__(self, o):
        super().__init__()
        self.s_former = Net(o)
        self.fc_f = nn.Linear(self.s_former.pos_embedding.shape[2], o['numClasses'])
    def forward(self, x):
        emb, aux = self.s_former(x)
        return {'logits': self.fc_f(emb), 'embedding': emb, **aux}

tensors, meta = read_st(sys.argv[1])
o = json.loads(meta['options'])
model = Model(o).double()
x = tensors.pop('input').double().permute(0, 1, 4, 2, 3)   # NTHWC → NTCHW
own = model.state_dict()
missing = sorted(set(own) - set(tensors))
unexpected = sorted(set(tensors) - set(own))
if missing or unexpected:
    sys.exit(f'state dict mismatch: missing {missing}, unexpected {unexpected}')
model.load_state_dict({k: v.to(own[k].dtype) for k, v in tensors.items()})
out = {}
with torch.no_grad():
    model.eval()
    out.update({f'eval.{k}': v for k, v in model(x).items()})
    model.train()
    out.update({f'train.{k}': v for k, v in model(x).items()})
    out['train.running_var'] = model.s_former.layer3[0].bn2.running_var.clone()
write_st(sys.argv[2], out)
