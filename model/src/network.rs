//! The claim network (candle): character + word + pinyin embeddings, a stack of residual dilated
//! 1-D convolutions, and three heads.
//!
//! - a token head scores every position for every claim label (the evidence);
//! - a document head: label logit = max over positions of the token score + a linear read of the
//!   pooled text (so context anywhere in the window — 经查、宣称、别信 — can veto a claim word);
//! - a product head over the pooled text (index 0 = no product).
//!
//! Chosen by the measurements in shared/reference/measurements.md: a CNN trains in minutes on
//! two cores and serves thousands of texts per second, where a transformer does neither. All
//! ops used backpropagate (embedding, conv1d, relu, max over a dim, matmul, broadcast ops).

use candle_core::{D, DType, Device, Module, Tensor};
use candle_nn::{Conv1d, Conv1dConfig, Embedding, Linear, VarBuilder};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Architecture hyper-parameters (stored in the bundle's config.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    /// Token ids (characters and words).
    pub vocab_size: usize,
    /// Pinyin ids including 0 = none.
    pub pinyin_size: usize,
    /// Embedding width.
    pub emb_dim: usize,
    /// Convolution channels.
    pub hidden: usize,
    /// Convolution kernel width.
    pub kernel: usize,
    /// Dilation of each convolution layer (receptive field grows with their sum).
    pub dilations: Vec<usize>,
    /// Claim labels (taxonomy order).
    pub n_labels: usize,
    /// Product categories (taxonomy order); the head has one more output for "none".
    pub n_products: usize,
}

/// A padded batch of encoded windows.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[B, L]` u32 character ids.
    pub char_ids: Tensor,
    /// `[B, L]` u32 word ids.
    pub word_ids: Tensor,
    /// `[B, L]` u32 pinyin ids.
    pub pinyin_ids: Tensor,
    /// `[B, L]` f32, 1 at real positions and 0 at padding.
    pub mask: Tensor,
}

impl Batch {
    /// Pad rows of ids (char, word, pinyin) to the longest row. Empty rows get one padding
    /// position so the tensors are never zero-width.
    pub fn from_rows(rows: &[(&[u32], &[u32], &[u32])], device: &Device) -> Result<Self> {
        let l = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(1);
        let b = rows.len();
        let mut c = vec![0u32; b * l];
        let mut w = vec![0u32; b * l];
        let mut p = vec![0u32; b * l];
        let mut m = vec![0f32; b * l];
        for (i, (rc, rw, rp)) in rows.iter().enumerate() {
            let o = i * l;
            c[o..o + rc.len()].copy_from_slice(rc);
            w[o..o + rw.len()].copy_from_slice(rw);
            p[o..o + rp.len()].copy_from_slice(rp);
            m[o..o + rc.len()].iter_mut().for_each(|x| *x = 1.0);
        }
        Ok(Self {
            char_ids: Tensor::from_vec(c, (b, l), device)?,
            word_ids: Tensor::from_vec(w, (b, l), device)?,
            pinyin_ids: Tensor::from_vec(p, (b, l), device)?,
            mask: Tensor::from_vec(m, (b, l), device)?,
        })
    }
}

/// The network's outputs for a batch.
#[derive(Debug, Clone)]
pub struct Output {
    /// `[B, labels]` document logits.
    pub doc_logits: Tensor,
    /// `[B, labels, L]` per-position logits (padding pushed to -1e4).
    pub token_logits: Tensor,
    /// `[B, products + 1]` product logits; column 0 = no product.
    pub product_logits: Tensor,
}

/// The claim network.
#[derive(Debug, Clone)]
pub struct ClaimNet {
    tok_emb: Embedding,
    py_emb: Embedding,
    convs: Vec<Conv1d>,
    token_head: Linear,
    doc_head: Linear,
    product_head: Linear,
}

impl ClaimNet {
    /// Build from a VarBuilder (training: backed by a VarMap the caller filled; inference:
    /// backed by the bundle's safetensors).
    pub fn new(cfg: &NetConfig, vb: VarBuilder) -> Result<Self> {
        let tok_emb = Embedding::new(
            vb.get((cfg.vocab_size, cfg.emb_dim), "tok_emb.weight")?,
            cfg.emb_dim,
        );
        let py_emb = Embedding::new(
            vb.get((cfg.pinyin_size, cfg.emb_dim), "py_emb.weight")?,
            cfg.emb_dim,
        );
        let mut convs = Vec::new();
        for (i, &d) in cfg.dilations.iter().enumerate() {
            let cin = if i == 0 { cfg.emb_dim } else { cfg.hidden };
            let conv_cfg = Conv1dConfig {
                padding: d * (cfg.kernel - 1) / 2,
                stride: 1,
                dilation: d,
                groups: 1,
                cudnn_fwd_algo: None,
            };
            let w = vb.get((cfg.hidden, cin, cfg.kernel), &format!("conv{i}.weight"))?;
            let b = vb.get(cfg.hidden, &format!("conv{i}.bias"))?;
            convs.push(Conv1d::new(w, Some(b), conv_cfg));
        }
        let lin = |name: &str, out: usize, inp: usize| -> Result<Linear> {
            Ok(Linear::new(
                vb.get((out, inp), &format!("{name}.weight"))?,
                Some(vb.get(out, &format!("{name}.bias"))?),
            ))
        };
        Ok(Self {
            tok_emb,
            py_emb,
            convs,
            token_head: lin("token_head", cfg.n_labels, cfg.hidden)?,
            doc_head: lin("doc_head", cfg.n_labels, 2 * cfg.hidden)?,
            product_head: lin("product_head", cfg.n_products + 1, 2 * cfg.hidden)?,
        })
    }

    /// Forward pass.
    pub fn forward(&self, batch: &Batch) -> Result<Output> {
        let e =
            (self.tok_emb.forward(&batch.char_ids)? + self.tok_emb.forward(&batch.word_ids)?)?;
        let e = (e + self.py_emb.forward(&batch.pinyin_ids)?)?;
        let mask3 = batch.mask.unsqueeze(1)?; // [B,1,L]
        // Padding positions are zeroed before the first convolution (as after every layer), so a
        // row sees exactly what it would alone: outputs never depend on the batch.
        let mut h = e.transpose(1, 2)?.contiguous()?.broadcast_mul(&mask3)?; // [B,D,L]
        for (i, conv) in self.convs.iter().enumerate() {
            let y = conv.forward(&h)?.relu()?.broadcast_mul(&mask3)?;
            h = if i == 0 { y } else { (y + h)? };
        }
        let ht = h.transpose(1, 2)?.contiguous()?; // [B,L,H]
        let neg = ((&mask3 - 1.0)? * 1e4)?; // 0 at real positions, -1e4 at padding
        let token_logits = self
            .token_head
            .forward(&ht)?
            .transpose(1, 2)?
            .broadcast_add(&neg)?; // [B,NL,L]
        let gmax = h.max(D::Minus1)?; // ReLU output ≥ 0 and padding is 0, so the max is over real positions
        let len = batch.mask.sum_keepdim(1)?.clamp(1.0, f64::MAX)?; // [B,1]
        let gmean = h.sum(D::Minus1)?.broadcast_div(&len)?;
        let g = Tensor::cat(&[gmax, gmean], 1)?;
        let doc_logits = (token_logits.max(D::Minus1)? + self.doc_head.forward(&g)?)?;
        let product_logits = self.product_head.forward(&g)?;
        Ok(Output {
            doc_logits,
            token_logits,
            product_logits,
        })
    }
}

/// Seeded initial weights for every tensor [`ClaimNet::new`] asks for: small normal embeddings,
/// Kaiming-uniform convolutions and heads, zero biases.
pub fn init_weights(cfg: &NetConfig, seed: u64, device: &Device) -> Result<Vec<(String, Tensor)>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut out = Vec::new();
    let uniform =
        |shape: Vec<usize>, bound: f32, rng: &mut rand_chacha::ChaCha8Rng| -> Result<Tensor> {
            let n: usize = shape.iter().product();
            let v: Vec<f32> = (0..n).map(|_| rng.random_range(-bound..=bound)).collect();
            Ok(Tensor::from_vec(v, shape, device)?)
        };
    // Embeddings: uniform with the variance of N(0, 0.1²).
    let eb = 0.1 * 3f32.sqrt();
    out.push((
        "tok_emb.weight".to_string(),
        uniform(vec![cfg.vocab_size, cfg.emb_dim], eb, &mut rng)?,
    ));
    out.push((
        "py_emb.weight".to_string(),
        uniform(vec![cfg.pinyin_size, cfg.emb_dim], eb, &mut rng)?,
    ));
    for i in 0..cfg.dilations.len() {
        let cin = if i == 0 { cfg.emb_dim } else { cfg.hidden };
        let bound = (6.0 / (cin * cfg.kernel) as f32).sqrt();
        out.push((
            format!("conv{i}.weight"),
            uniform(vec![cfg.hidden, cin, cfg.kernel], bound, &mut rng)?,
        ));
        out.push((
            format!("conv{i}.bias"),
            Tensor::zeros(cfg.hidden, DType::F32, device)?,
        ));
    }
    for (name, o, i) in [
        ("token_head", cfg.n_labels, cfg.hidden),
        ("doc_head", cfg.n_labels, 2 * cfg.hidden),
        ("product_head", cfg.n_products + 1, 2 * cfg.hidden),
    ] {
        let bound = (1.0 / i as f32).sqrt();
        out.push((
            format!("{name}.weight"),
            uniform(vec![o, i], bound, &mut rng)?,
        ));
        out.push((
            format!("{name}.bias"),
            Tensor::zeros(o, DType::F32, device)?,
        ));
    }
    Ok(out)
}
