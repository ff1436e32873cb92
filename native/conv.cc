// Native kernels for ferkit's TF.js engine: NHWC conv2d forward, filter gradient and input
// gradient as im2col + OpenBLAS sgemm (multi-threaded, AVX2/AVX-512 where the CPU has it); the
// depthwise conv's two gradients; the sum over all axes but the last; the
// max-pool gradient; training-mode batch norm (ReLU optionally fused) and its gradient; the SGD
// momentum update of every parameter in one call.
// The JavaScript side (src/engine/native.ts) passes views of the wasm heap, so no tensor data is
// copied between the engine and these kernels. Context-aware (NAPI_MODULE_INIT): loads in workers.
#include <node_api.h>
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <malloc.h>
#include <memory>
#include <vector>

namespace {

// The im2col matrix is the biggest buffer here (170 MB for a 48x48 stage at batch 128). A fresh
// std::vector per call zero-fills it and page-faults every page in: measured as a fifth of a
// training step. One growing buffer per thread (each worker replica is its own thread) avoids both;
// im2col and sgemm with beta 0 write every element, so no clearing is needed.
float* scratch(size_t n) {
  thread_local std::unique_ptr<float[]> buf;
  thread_local size_t cap = 0;
  if (n > cap) {
    buf.reset(new float[n]);
    cap = n;
  }
  return buf.get();
}

struct Geometry {
  int n, h, w, cin, kh, kw, cout, oh, ow, sh, sw, pt, pl, dh, dw;
  int64_t rows() const { return (int64_t)n * oh * ow; }
  int64_t cols() const { return (int64_t)kh * kw * cin; }
};

// cols[(b,oy,ox), (ky,kx,c)] = x[b, oy*sh-pt+ky*dh, ox*sw-pl+kx*dw, c] (0 outside).
void im2col(const float* x, const Geometry& g, float* cols) {
  const int64_t K = g.cols();
  for (int b = 0; b < g.n; b++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        float* row = cols + (((int64_t)b * g.oh + oy) * g.ow + ox) * K;
        for (int ky = 0; ky < g.kh; ky++) {
          const int iy = oy * g.sh - g.pt + ky * g.dh;
          for (int kx = 0; kx < g.kw; kx++) {
            const int ix = ox * g.sw - g.pl + kx * g.dw;
            float* dst = row + ((int64_t)ky * g.kw + kx) * g.cin;
            if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) std::memset(dst, 0, sizeof(float) * g.cin);
            else std::memcpy(dst, x + (((int64_t)b * g.h + iy) * g.w + ix) * g.cin, sizeof(float) * g.cin);
          }
        }
      }
}

// dx[b, iy, ix, c] += dcols[(b,oy,ox), (ky,kx,c)]: the adjoint of im2col.
void col2im(const float* dcols, const Geometry& g, float* dx) {
  const int64_t K = g.cols();
  std::memset(dx, 0, sizeof(float) * (size_t)g.n * g.h * g.w * g.cin);
  for (int b = 0; b < g.n; b++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        const float* row = dcols + (((int64_t)b * g.oh + oy) * g.ow + ox) * K;
        for (int ky = 0; ky < g.kh; ky++) {
          const int iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int kx = 0; kx < g.kw; kx++) {
            const int ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const float* src = row + ((int64_t)ky * g.kw + kx) * g.cin;
            float* dst = dx + (((int64_t)b * g.h + iy) * g.w + ix) * g.cin;
            for (int c = 0; c < g.cin; c++) dst[c] += src[c];
          }
        }
      }
}

// A 1x1, stride-1, unpadded conv reads x itself as its im2col matrix.
bool identityCols(const Geometry& g) {
  return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.pt == 0 && g.pl == 0 && g.oh == g.h && g.ow == g.w;
}

bool getFloats(napi_env env, napi_value v, float** data, size_t* len) {
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &ab, &offset) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, nullptr, "ferkit native: expected a Float32Array");
    return false;
  }
  *data = static_cast<float*>(ptr);
  *len = length;
  return true;
}

bool getGeometry(napi_env env, napi_value v, Geometry* g) {
  int32_t vals[15];
  for (uint32_t i = 0; i < 15; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_int32(env, e, &vals[i]) != napi_ok) {
      napi_throw_type_error(env, nullptr, "ferkit native: geometry must be 15 integers");
      return false;
    }
  }
  *g = {vals[0], vals[1], vals[2], vals[3], vals[4], vals[5], vals[6], vals[7], vals[8], vals[9], vals[10], vals[11], vals[12], vals[13], vals[14]};
  return true;
}

// The (mode, geometry, a, b, out) arguments every conv kernel takes; false after throwing.
struct ConvArgs {
  int32_t mode;
  Geometry g;
  float *a, *b, *out;
  size_t la, lb, lo;
};

bool getConvArgs(napi_env env, napi_callback_info info, const char* usage, ConvArgs* c) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc != 5) {
    napi_throw_type_error(env, nullptr, usage);
    return false;
  }
  napi_get_value_int32(env, argv[0], &c->mode);
  return getGeometry(env, argv[1], &c->g) && getFloats(env, argv[2], &c->a, &c->la) && getFloats(env, argv[3], &c->b, &c->lb) &&
         getFloats(env, argv[4], &c->out, &c->lo);
}

// (mode, geometry, a, b, out): mode 0 forward (x, w → y), 1 filter grad (x, dy → dw), 2 input grad (dy, w → dx).
napi_value Conv(napi_env env, napi_callback_info info) {
  ConvArgs args;
  if (!getConvArgs(env, info, "ferkit native conv: (mode, geometry, a, b, out)", &args)) return nullptr;
  const int32_t mode = args.mode;
  const Geometry& g = args.g;
  float *a = args.a, *b = args.b, *out = args.out;
  const size_t la = args.la, lb = args.lb, lo = args.lo;
  const int64_t M = g.rows(), K = g.cols(), C = g.cout;
  const size_t xSize = (size_t)g.n * g.h * g.w * g.cin;
  const bool direct = identityCols(g);
  if (mode == 0 || mode == 1) {
    if (la != xSize || (mode == 0 ? lb != (size_t)(K * C) || lo != (size_t)(M * C) : lb != (size_t)(M * C) || lo != (size_t)(K * C))) {
      napi_throw_range_error(env, nullptr, "ferkit native conv: array sizes do not match the geometry");
      return nullptr;
    }
    const float* colsPtr = a;
    if (!direct) {
      float* cols = scratch((size_t)(M * K));
      im2col(a, g, cols);
      colsPtr = cols;
    }
    if (mode == 0) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, C, K, 1.0f, colsPtr, K, b, C, 0.0f, out, C);
    else cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, C, M, 1.0f, colsPtr, K, b, C, 0.0f, out, C);
  } else if (mode == 2) {
    if (la != (size_t)(M * C) || lb != (size_t)(K * C) || lo != xSize) {
      napi_throw_range_error(env, nullptr, "ferkit native conv: array sizes do not match the geometry");
      return nullptr;
    }
    if (direct) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, C, 1.0f, a, C, b, C, 0.0f, out, K);
    else {
      float* cols = scratch((size_t)(M * K));
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, K, C, 1.0f, a, C, b, C, 0.0f, cols, K);
      col2im(cols, g, out);
    }
  } else {
    napi_throw_range_error(env, nullptr, "ferkit native conv: mode must be 0, 1 or 2");
    return nullptr;
  }
  return nullptr;
}

// (mode, geometry, a, b, out), depthwise with channel multiplier 1 (cin = cout = C): mode 1 filter
// grad (x, dy → dw [kh, kw, C]), 2 input grad (dy, w → dx). Direct loops over NHWC rows, C
// innermost so they vectorise: the wasm backend has neither gradient and composing them from
// forward depthwise convs cost ten times the forward pass (face-expression trunk, 112 px).
napi_value Depthwise(napi_env env, napi_callback_info info) {
  ConvArgs args;
  if (!getConvArgs(env, info, "ferkit native depthwise: (mode, geometry, a, b, out)", &args)) return nullptr;
  const int32_t mode = args.mode;
  const Geometry& g = args.g;
  float *a = args.a, *b = args.b, *out = args.out;
  const size_t la = args.la, lb = args.lb, lo = args.lo;
  if (mode != 1 && mode != 2) {
    napi_throw_range_error(env, nullptr, "ferkit native depthwise: mode must be 1 or 2");
    return nullptr;
  }
  const int C = g.cin;
  const size_t xSize = (size_t)g.n * g.h * g.w * C, ySize = (size_t)g.rows() * C, wSize = (size_t)g.kh * g.kw * C;
  if (g.cout != C || (mode == 1 ? la != xSize || lb != ySize || lo != wSize : la != ySize || lb != wSize || lo != xSize)) {
    napi_throw_range_error(env, nullptr, "ferkit native depthwise: array sizes do not match the geometry (multiplier 1)");
    return nullptr;
  }
  std::memset(out, 0, sizeof(float) * lo);
  for (int bi = 0; bi < g.n; bi++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        const int64_t yo = (((int64_t)bi * g.oh + oy) * g.ow + ox) * C;
        for (int ky = 0; ky < g.kh; ky++) {
          const int iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int kx = 0; kx < g.kw; kx++) {
            const int ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const int64_t xo = (((int64_t)bi * g.h + iy) * g.w + ix) * C;
            const int64_t wo = ((int64_t)ky * g.kw + kx) * C;
            if (mode == 1) {
              const float* __restrict x = a + xo;
              const float* __restrict dy = b + yo;
              float* __restrict dw = out + wo;
              for (int c = 0; c < C; c++) dw[c] += x[c] * dy[c];
            } else {
              const float* __restrict dy = a + yo;
              const float* __restrict w = b + wo;
              float* __restrict dx = out + xo;
              for (int c = 0; c < C; c++) dx[c] += dy[c] * w[c];
            }
          }
        }
      }
  return nullptr;
}

// (geometry [n,h,w,c,kh,kw,oh,ow,sh,sw,ph,pw], x, dy, dx): each output's gradient goes to the first
// maximum of its window in scan order (PyTorch's rule); x is the input padded by ph, pw (-inf) on
// each side, dx the gradient of the input before padding (padding is never a maximum).
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t v[12];
  for (uint32_t i = 0; i < 12; i++) {
    napi_value e;
    if (argc != 4 || napi_get_element(env, argv[0], i, &e) != napi_ok || napi_get_value_int32(env, e, &v[i]) != napi_ok) {
      napi_throw_type_error(env, nullptr, "ferkit native maxPoolGrad: (geometry[12], x, dy, dx)");
      return nullptr;
    }
  }
  const int n = v[0], h = v[1], w = v[2], c = v[3], kh = v[4], kw = v[5], oh = v[6], ow = v[7], sh = v[8], sw = v[9], ph = v[10], pw = v[11];
  const int uh = h - 2 * ph, uw = w - 2 * pw;
  float *x, *dy, *dx;
  size_t lx, ldy, ldx;
  if (!getFloats(env, argv[1], &x, &lx) || !getFloats(env, argv[2], &dy, &ldy) || !getFloats(env, argv[3], &dx, &ldx)) return nullptr;
  if (uh < 1 || uw < 1 || lx != (size_t)n * h * w * c || ldx != (size_t)n * uh * uw * c || ldy != (size_t)n * oh * ow * c || (oh - 1) * sh + kh > h || (ow - 1) * sw + kw > w) {
    napi_throw_range_error(env, nullptr, "ferkit native maxPoolGrad: array sizes do not match the geometry");
    return nullptr;
  }
  std::memset(dx, 0, sizeof(float) * ldx);
  std::vector<float> best(c);
  std::vector<int64_t> where(c);
  std::vector<int> wy(c), wx(c);
  for (int b = 0; b < n; b++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        for (int ch = 0; ch < c; ch++) {
          best[ch] = -__builtin_inff();
          where[ch] = -1;
        }
        for (int ky = 0; ky < kh; ky++)
          for (int kx = 0; kx < kw; kx++) {
            const int64_t base = (((int64_t)b * h + oy * sh + ky) * w + ox * sw + kx) * c;
            for (int ch = 0; ch < c; ch++) {
              const float val = x[base + ch];
              if (val > best[ch] || where[ch] < 0) {
                best[ch] = val;
                where[ch] = base + ch;
                wy[ch] = oy * sh + ky - ph;
                wx[ch] = ox * sw + kx - pw;
              }
            }
          }
        const float* g = dy + (((int64_t)b * oh + oy) * ow + ox) * c;
        for (int ch = 0; ch < c; ch++)
          if (wy[ch] >= 0 && wy[ch] < uh && wx[ch] >= 0 && wx[ch] < uw) dx[(((int64_t)b * uh + wy[ch]) * uw + wx[ch]) * c + ch] += g[ch];
      }
  return nullptr;
}

// Training-mode batch normalisation over the rows of x [m, c] (NHWC flattened), one pass for the
// statistics (double sums) and one for y: (c, eps, relu, x, gamma, beta, y, mean, variance, invstd).
// y = (x − μ)·invstd·γ + β, then max(0, ·) when relu is set (BatchNorm followed by ReLU, fused).
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t c = 0, relu = 0;
  double eps = 0;
  float *x, *gamma, *beta, *y, *mean, *var, *invstd;
  size_t lx, lg, lb, ly, lm, lv, li;
  if (argc != 10 || napi_get_value_int32(env, argv[0], &c) != napi_ok || napi_get_value_double(env, argv[1], &eps) != napi_ok ||
      napi_get_value_int32(env, argv[2], &relu) != napi_ok) {
    napi_throw_type_error(env, nullptr, "ferkit native batchNormTrain: (c, eps, relu, x, gamma, beta, y, mean, variance, invstd)");
    return nullptr;
  }
  if (!getFloats(env, argv[3], &x, &lx) || !getFloats(env, argv[4], &gamma, &lg) || !getFloats(env, argv[5], &beta, &lb) || !getFloats(env, argv[6], &y, &ly) ||
      !getFloats(env, argv[7], &mean, &lm) || !getFloats(env, argv[8], &var, &lv) || !getFloats(env, argv[9], &invstd, &li))
    return nullptr;
  if (c < 1 || lx % c != 0 || ly != lx || lg != (size_t)c || lb != (size_t)c || lm != (size_t)c || lv != (size_t)c || li != (size_t)c) {
    napi_throw_range_error(env, nullptr, "ferkit native batchNormTrain: array sizes do not match");
    return nullptr;
  }
  const size_t m = lx / c;
  std::vector<double> s(c, 0.0), ss(c, 0.0);
  for (size_t r = 0; r < m; r++) {
    const float* row = x + r * c;
    for (int k = 0; k < c; k++) {
      const double v = row[k];
      s[k] += v;
      ss[k] += v * v;
    }
  }
  std::vector<float> scale(c), shift(c);
  for (int k = 0; k < c; k++) {
    const double mu = s[k] / m;
    const double v = std::max(0.0, ss[k] / m - mu * mu);
    mean[k] = (float)mu;
    var[k] = (float)v;
    invstd[k] = (float)(1.0 / std::sqrt(v + eps));
    scale[k] = invstd[k] * gamma[k];
    shift[k] = beta[k] - mean[k] * scale[k];
  }
  for (size_t r = 0; r < m; r++) {
    const float* row = x + r * c;
    float* out = y + r * c;
    if (relu)
      for (int k = 0; k < c; k++) out[k] = std::max(0.0f, row[k] * scale[k] + shift[k]);
    else
      for (int k = 0; k < c; k++) out[k] = row[k] * scale[k] + shift[k];
  }
  return nullptr;
}

// Its gradient: (c, relu, x, dy, mean, invstd, gamma, beta, dx, dgamma, dbeta). With relu, dy is
// first masked where the fused output was 0 (recomputed from x, as the forward did).
//   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ·invstd·(dy − dβ/m − x̂·dγ/m),  x̂ = (x − μ)·invstd.
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t c = 0, relu = 0;
  float *x, *dy, *mean, *invstd, *gamma, *beta, *dx, *dgamma, *dbeta;
  size_t lx, ldy, lm, li, lg, lb, ldx, ldg, ldb;
  if (argc != 11 || napi_get_value_int32(env, argv[0], &c) != napi_ok || napi_get_value_int32(env, argv[1], &relu) != napi_ok) {
    napi_throw_type_error(env, nullptr, "ferkit native batchNormTrainGrad: (c, relu, x, dy, mean, invstd, gamma, beta, dx, dgamma, dbeta)");
    return nullptr;
  }
  if (!getFloats(env, argv[2], &x, &lx) || !getFloats(env, argv[3], &dy, &ldy) || !getFloats(env, argv[4], &mean, &lm) || !getFloats(env, argv[5], &invstd, &li) ||
      !getFloats(env, argv[6], &gamma, &lg) || !getFloats(env, argv[7], &beta, &lb) || !getFloats(env, argv[8], &dx, &ldx) || !getFloats(env, argv[9], &dgamma, &ldg) ||
      !getFloats(env, argv[10], &dbeta, &ldb))
    return nullptr;
  if (c < 1 || lx % c != 0 || ldy != lx || ldx != lx || lm != (size_t)c || li != (size_t)c || lg != (size_t)c || lb != (size_t)c || ldg != (size_t)c || ldb != (size_t)c) {
    napi_throw_range_error(env, nullptr, "ferkit native batchNormTrainGrad: array sizes do not match");
    return nullptr;
  }
  const size_t m = lx / c;
  std::vector<float> scale(c), shift(c);
  for (int k = 0; k < c; k++) {
    scale[k] = invstd[k] * gamma[k];
    shift[k] = beta[k] - mean[k] * scale[k];
  }
  // The masked upstream gradient goes into dx first (it is read once more, then overwritten).
  std::vector<double> sb(c, 0.0), sg(c, 0.0);
  for (size_t r = 0; r < m; r++) {
    const float* xr = x + r * c;
    const float* gr = dy + r * c;
    float* g = dx + r * c;
    for (int k = 0; k < c; k++) {
      const float d = relu && xr[k] * scale[k] + shift[k] <= 0.0f ? 0.0f : gr[k];
      g[k] = d;
      sb[k] += d;
      sg[k] += (double)d * ((xr[k] - mean[k]) * invstd[k]);
    }
  }
  std::vector<float> a(c), b(c), e(c);
  for (int k = 0; k < c; k++) {
    dbeta[k] = (float)sb[k];
    dgamma[k] = (float)sg[k];
    a[k] = gamma[k] * invstd[k];
    b[k] = (float)(sb[k] / m);
    e[k] = (float)(sg[k] / m);
  }
  for (size_t r = 0; r < m; r++) {
    const float* xr = x + r * c;
    float* g = dx + r * c;
    for (int k = 0; k < c; k++) g[k] = a[k] * (g[k] - b[k] - (xr[k] - mean[k]) * invstd[k] * e[k]);
  }
  return nullptr;
}

// One SGD-momentum step of a parameter (torch.optim.SGD, dampening 0, not Nesterov), with the
// coupled weight decay folded in: (lr, momentum, weightDecay, first, p, g, buf, pOut, bufOut).
// d = g + wd·p; buf' = momentum·buf + d (d on the first step); p' = p − lr·buf'. The same float
// operations in the same order as the TF.js ops it replaces, so the results are equal bit for bit.
napi_value SgdUpdate(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  double lr, mom, wd;
  bool first;
  if (argc != 9 || napi_get_value_double(env, argv[0], &lr) != napi_ok || napi_get_value_double(env, argv[1], &mom) != napi_ok ||
      napi_get_value_double(env, argv[2], &wd) != napi_ok || napi_get_value_bool(env, argv[3], &first) != napi_ok) {
    napi_throw_type_error(env, nullptr, "ferkit native sgdUpdate: (lr, momentum, weightDecay, first, p, g, buf, pOut, bufOut)");
    return nullptr;
  }
  float *p, *g, *buf, *po, *bo;
  size_t lp, lg, lb, lpo, lbo;
  if (!getFloats(env, argv[4], &p, &lp) || !getFloats(env, argv[5], &g, &lg) || !getFloats(env, argv[6], &buf, &lb) || !getFloats(env, argv[7], &po, &lpo) ||
      !getFloats(env, argv[8], &bo, &lbo))
    return nullptr;
  if (lg != lp || lb != lp || lpo != lp || lbo != lp) {
    napi_throw_range_error(env, nullptr, "ferkit native sgdUpdate: parameter, gradient and buffer sizes differ");
    return nullptr;
  }
  const float flr = (float)lr, fm = (float)mom, fwd = (float)wd;
  for (size_t k = 0; k < lp; k++) {
    const float d = fwd != 0.0f ? g[k] + p[k] * fwd : g[k];
    bo[k] = first ? d : buf[k] * fm + d;
    po[k] = p[k] - bo[k] * flr;
  }
  return nullptr;
}

// (x [R·C], c, out [C]): out[j] = Σ_r x[r, j], the sum over every axis but the last (a bias's
// gradient). Row by row, so the inner loop runs over contiguous channels and vectorises; the wasm
// Sum transposes the whole tensor first when the kept axis is the innermost one.
napi_value ColumnSum(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t c;
  float *x, *out;
  size_t lx, lo;
  if (argc != 3 || !getFloats(env, argv[0], &x, &lx) || napi_get_value_int32(env, argv[1], &c) != napi_ok || !getFloats(env, argv[2], &out, &lo)) {
    napi_throw_type_error(env, nullptr, "ferkit native columnSum: (x, c, out)");
    return nullptr;
  }
  if (c <= 0 || lo != (size_t)c || lx % (size_t)c != 0) {
    napi_throw_range_error(env, nullptr, "ferkit native columnSum: sizes do not match");
    return nullptr;
  }
  std::memset(out, 0, sizeof(float) * c);
  const size_t rows = lx / c;
  for (size_t r = 0; r < rows; r++) {
    const float* __restrict row = x + r * c;
    float* __restrict o = out;
    for (int j = 0; j < c; j++) o[j] += row[j];
  }
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  int32_t n = 1;
  if (argc == 1) napi_get_value_int32(env, argv[0], &n);
  openblas_set_num_threads(n);
  napi_value r;
  napi_create_int32(env, openblas_get_num_threads(), &r);
  return r;
}

napi_value Config(napi_env env, napi_callback_info) {
  napi_value r;
  const char* c = openblas_get_config();
  napi_create_string_utf8(env, c, NAPI_AUTO_LENGTH, &r);
  return r;
}

}  // namespace

NAPI_MODULE_INIT() {
  // Tensor buffers of tens of MB come and go every step. glibc serves those with mmap and unmaps
  // them on free, so each step page-faults (and zeroes) them all again; keeping them on the heap
  // (fixed mmap threshold at its 32 MB maximum, no trimming) measured 155 -> 179 img/s training.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  napi_property_descriptor props[] = {
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"depthwise", nullptr, Depthwise, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"columnSum", nullptr, ColumnSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sgdUpdate", nullptr, SgdUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"blasConfig", nullptr, Config, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}
