//! `qingwang train`: vocabulary from the training data, the claim network trained with candle
//! autograd and [`AdamW`], and the pieces of a bundle (weights, vocabulary, lexicons, config).
//! Thresholds and metrics are added by [`crate::pipeline`].
//!
//! Deterministic: the same data, configuration and seed give the same bytes (seeded
//! initialisation, seeded shuffling, no dropout from candle's unseeded generator).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{VarBuilder, VarMap};
use qingwang_datasets::{Example, Lexicons, Taxonomy};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::bundle::{self, BundleConfig};
use crate::encode::{Encoded, Encoder, jieba_with, windows};
use crate::error::{ModelError, Result};
use crate::network::{Batch, ClaimNet, NetConfig, init_weights};
use crate::normalize::{Normalized, Normalizer};
use crate::optim::{AdamW, AdamWConfig};
use crate::vocab::{UNK, Vocab};

/// Training settings (stored in the bundle's config.json under `train`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Seed for initialisation, shuffling and augmentation.
    pub seed: u64,
    /// Passes over the training data.
    pub epochs: usize,
    /// Windows per step.
    pub batch_size: usize,
    /// Peak learning rate (linear warm-up over the first 5% of steps, then linear decay).
    pub lr: f64,
    /// AdamW weight decay.
    pub weight_decay: f64,
    /// Window length (normalised chars).
    pub window: usize,
    /// Window stride.
    pub stride: usize,
    /// Embedding width.
    pub emb_dim: usize,
    /// Convolution channels.
    pub hidden: usize,
    /// Convolution kernel.
    pub kernel: usize,
    /// Dilations, one per layer.
    pub dilations: Vec<usize>,
    /// Minimum count for a jieba word to get its own id.
    pub min_word_freq: usize,
    /// Most word ids.
    pub max_words: usize,
    /// Weight of the per-position evidence loss.
    pub token_loss_weight: f64,
    /// Weight of the product loss.
    pub product_loss_weight: f64,
    /// Probability of hiding a character id (the model must then read its pinyin and context).
    pub char_drop: f64,
    /// Token probability above which a position is evidence.
    pub span_threshold: f32,
    /// Stop after this many steps (0 = no limit; for smoke tests).
    pub max_steps: usize,
    /// How many times each non-generated training example is seen per epoch (the hand-written
    /// core is small beside the generated data and is what real text looks like).
    #[serde(default = "one")]
    pub core_repeat: usize,
}

fn one() -> usize {
    1
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 20261202,
            epochs: 5,
            batch_size: 32,
            lr: 3e-3,
            weight_decay: 1e-4,
            window: 128,
            stride: 96,
            emb_dim: 64,
            hidden: 128,
            kernel: 3,
            dilations: vec![1, 2, 4, 8],
            min_word_freq: 3,
            max_words: 12_000,
            token_loss_weight: 0.5,
            product_loss_weight: 0.3,
            char_drop: 0.08,
            span_threshold: 0.5,
            max_steps: 0,
            core_repeat: 3,
        }
    }
}

/// A training example and its weight in the loss.
#[derive(Debug, Clone)]
pub struct Weighted {
    /// The example.
    pub example: Example,
    /// Loss weight (1.0 for the team's data; analysts' files may weigh more).
    pub weight: f32,
}

/// What one training run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSummary {
    /// Training windows.
    pub windows: usize,
    /// Optimiser steps.
    pub steps: usize,
    /// Mean loss of the first and last 50 steps.
    pub first_loss: f32,
    /// Mean loss of the last 50 steps.
    pub last_loss: f32,
    /// Token ids.
    pub vocab_size: usize,
    /// Trainable parameters.
    pub parameters: usize,
    /// Wall-clock seconds of the optimisation loop (printed, not stored: a bundle's bytes
    /// depend only on data, configuration and seed).
    #[serde(skip)]
    pub seconds: f64,
}

/// One training window.
struct Item {
    char_ids: Vec<u32>,
    word_ids: Vec<u32>,
    pinyin_ids: Vec<u32>,
    labels: Vec<f32>,
    /// Per label, per position: 1 inside an evidence span.
    token: Vec<Vec<f32>>,
    positive: bool,
    product: u32,
    weight: f32,
}

/// Normalised positions whose original range overlaps `[start, end)` of the original text.
pub fn normalized_positions(norm: &Normalized, start: usize, end: usize) -> Vec<usize> {
    norm.align
        .iter()
        .enumerate()
        .filter(|(_, (a, b))| *a < end && *b > start)
        .map(|(i, _)| i)
        .collect()
}

fn make_items(ex: &Weighted, enc: &Encoded, tax: &Taxonomy, cfg: &TrainConfig) -> Vec<Item> {
    let nl = tax.labels.len();
    let n = enc.len();
    let mut token = vec![vec![0f32; n]; nl];
    for s in &ex.example.spans {
        if let Some(l) = tax.label_index(&s.label) {
            for p in normalized_positions(&enc.norm, s.char_start, s.char_end) {
                token[l][p] = 1.0;
            }
        }
    }
    let doc_labels: Vec<usize> = ex
        .example
        .labels
        .iter()
        .filter_map(|l| tax.label_index(l))
        .collect();
    let product = ex
        .example
        .product
        .as_deref()
        .and_then(|p| tax.product_index(p))
        .map_or(0, |i| i as u32 + 1);
    let wins = windows(n, cfg.window, cfg.stride);
    let single = wins.len() == 1;
    wins.into_iter()
        .map(|(a, b)| {
            let mut labels = vec![0f32; nl];
            for &l in &doc_labels {
                // A long text's window carries a label only when it holds that label's evidence
                // (or the label has no span at all, which validation forbids for positives).
                let has_span = ex.example.spans.iter().any(|s| s.label == tax.labels[l].id);
                if single || !has_span || token[l][a..b].iter().any(|&t| t > 0.0) {
                    labels[l] = 1.0;
                }
            }
            let positive = labels.iter().any(|&y| y > 0.0);
            Item {
                char_ids: enc.char_ids[a..b].to_vec(),
                word_ids: enc.word_ids[a..b].to_vec(),
                pinyin_ids: enc.pinyin_ids[a..b].to_vec(),
                labels,
                token: token.iter().map(|t| t[a..b].to_vec()).collect(),
                positive,
                product,
                weight: ex.weight,
            }
        })
        .collect()
}

/// Count characters and jieba words of the normalised training texts.
fn count_tokens(
    texts: &[&str],
    normalizer: &Normalizer,
    jieba: &jieba_rs::Jieba,
) -> (BTreeMap<char, usize>, BTreeMap<String, usize>) {
    let mut chars = BTreeMap::new();
    let mut words = BTreeMap::new();
    for t in texts {
        let norm = normalizer.normalize(t).text();
        for c in norm.chars() {
            *chars.entry(c).or_insert(0) += 1;
        }
        for w in jieba.cut(&norm, true).into_iter().map(|t| t.word) {
            if w.chars().count() >= 2 && !w.trim().is_empty() {
                *words.entry(w.to_string()).or_insert(0) += 1;
            }
        }
    }
    (chars, words)
}

/// Element-wise binary cross-entropy with logits, numerically stable, built from ops that
/// backpropagate: max(z,0) − z·y + log(1 + e^(−|z|)).
fn bce_elements(z: &Tensor, y: &Tensor) -> Result<Tensor> {
    let t = (z.relu()? - (z * y)?)?;
    let soft = ((z.abs()?.neg()?.exp()? + 1.0)?).log()?;
    Ok((t + soft)?)
}

struct Step {
    loss: Tensor,
}

fn loss_for(
    net: &ClaimNet,
    items: &[&Item],
    rng: &mut ChaCha8Rng,
    cfg: &TrainConfig,
    nl: usize,
    dev: &Device,
) -> Result<Step> {
    let dropped: Vec<Vec<u32>> = items
        .iter()
        .map(|it| {
            it.char_ids
                .iter()
                .map(|&c| {
                    if cfg.char_drop > 0.0 && rng.random_bool(cfg.char_drop) {
                        UNK
                    } else {
                        c
                    }
                })
                .collect()
        })
        .collect();
    let rows: Vec<(&[u32], &[u32], &[u32])> = items
        .iter()
        .zip(&dropped)
        .map(|(it, c)| {
            (
                c.as_slice(),
                it.word_ids.as_slice(),
                it.pinyin_ids.as_slice(),
            )
        })
        .collect();
    let batch = Batch::from_rows(&rows, dev)?;
    let b = items.len();
    let l = batch.mask.dims()[1];
    let out = net.forward(&batch)?;
    let y: Vec<f32> = items
        .iter()
        .flat_map(|it| it.labels.iter().copied())
        .collect();
    let y = Tensor::from_vec(y, (b, nl), dev)?;
    let w: Vec<f32> = items.iter().map(|it| it.weight).collect();
    let wsum: f32 = w.iter().sum::<f32>().max(1e-6);
    let w = Tensor::from_vec(w, (b, 1), dev)?;
    let doc = (bce_elements(&out.doc_logits, &y)?
        .broadcast_mul(&w)?
        .sum_all()?
        / (wsum as f64 * nl as f64))?;
    // Evidence loss on positive windows only: where the claim words are.
    let mut t = vec![0f32; b * nl * l];
    let mut tm = vec![0f32; b * l];
    for (i, it) in items.iter().enumerate() {
        if !it.positive {
            continue;
        }
        for (li, row) in it.token.iter().enumerate() {
            for (p, &v) in row.iter().enumerate() {
                t[(i * nl + li) * l + p] = v;
            }
        }
        for p in 0..it.char_ids.len() {
            tm[i * l + p] = it.weight;
        }
    }
    let tm_sum: f32 = tm.iter().sum();
    let t = Tensor::from_vec(t, (b, nl, l), dev)?;
    let tm = Tensor::from_vec(tm, (b, 1, l), dev)?;
    let mut loss = doc;
    if tm_sum > 0.0 && cfg.token_loss_weight > 0.0 {
        let tok = (bce_elements(&out.token_logits, &t)?
            .broadcast_mul(&tm)?
            .sum_all()?
            / (tm_sum as f64 * nl as f64))?;
        loss = (loss + (tok * cfg.token_loss_weight)?)?;
    }
    if cfg.product_loss_weight > 0.0 {
        let p: Vec<u32> = items.iter().map(|it| it.product).collect();
        let p = Tensor::from_vec(p, b, dev)?;
        let prod = candle_nn::loss::cross_entropy(&out.product_logits, &p)?;
        loss = (loss + (prod * cfg.product_loss_weight)?)?;
    }
    Ok(Step { loss })
}

/// Train the network on `train` and write config.json, model.safetensors, tokenizer.json and
/// lexicon/ into `out`. `progress` is called every few steps with (step, total, mean loss).
pub fn train_network(
    train: &[Weighted],
    lex: &Lexicons,
    tax: &Taxonomy,
    cfg: &TrainConfig,
    out: &Path,
    mut progress: impl FnMut(usize, usize, f32),
) -> Result<TrainSummary> {
    if train.is_empty() {
        return Err(ModelError::Train("no training examples".into()));
    }
    if !train.iter().any(|w| w.example.is_positive()) {
        return Err(ModelError::Train("no positive training examples".into()));
    }
    if cfg.epochs == 0
        || cfg.batch_size == 0
        || cfg.window < 8
        || cfg.kernel % 2 == 0
        || cfg.dilations.is_empty()
    {
        return Err(ModelError::Train(
            "epochs and batch_size must be > 0, window ≥ 8, kernel odd, dilations not empty".into(),
        ));
    }
    let dev = Device::Cpu;
    let normalizer = Normalizer::new(lex);
    let jieba = jieba_with(&lex.userdict)?;
    let texts: Vec<&str> = train.iter().map(|w| w.example.text.as_str()).collect();
    let (char_counts, word_counts) = count_tokens(&texts, &normalizer, &jieba);
    let vocab = Vocab::build(&char_counts, &word_counts, cfg.min_word_freq, cfg.max_words);
    let pinyin = vocab.pinyin().to_vec();
    let tokenizer_json = vocab.to_tokenizer_json();
    let encoder = Encoder::new(lex, vocab)?;
    let mut items = Vec::new();
    let mut seen: HashSet<u32> = HashSet::new();
    for w in train {
        let enc = encoder.encode(&w.example.text);
        if enc.is_empty() {
            continue;
        }
        seen.extend(enc.char_ids.iter().copied());
        let repeat = if w.example.source == qingwang_datasets::Source::Generated {
            1
        } else {
            cfg.core_repeat.max(1)
        };
        for _ in 0..repeat {
            items.extend(make_items(w, &enc, tax, cfg));
        }
    }
    let net_cfg = NetConfig {
        vocab_size: encoder.vocab().len(),
        pinyin_size: encoder.vocab().pinyin_len(),
        emb_dim: cfg.emb_dim,
        hidden: cfg.hidden,
        kernel: cfg.kernel,
        dilations: cfg.dilations.clone(),
        n_labels: tax.labels.len(),
        n_products: tax.products.len(),
    };
    let varmap = VarMap::new();
    let mut named = Vec::new();
    {
        let mut data = varmap
            .data()
            .lock()
            .map_err(|_| ModelError::Train("variable map lock poisoned".into()))?;
        for (name, t) in init_weights(&net_cfg, cfg.seed, &dev)? {
            let var = Var::from_tensor(&t)?;
            data.insert(name.clone(), var.clone());
            named.push((name, var));
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let parameters = named.iter().map(|(_, v)| v.as_tensor().elem_count()).sum();
    let net = ClaimNet::new(&net_cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev))?;
    let opt_cfg = AdamWConfig {
        lr: cfg.lr,
        weight_decay: cfg.weight_decay,
        ..AdamWConfig::default()
    };
    let mut opt = AdamW::new(
        named.clone(),
        opt_cfg,
        |n| n.ends_with("_emb.weight"),
        |n| n.ends_with(".weight") && !n.ends_with("_emb.weight"),
    )?;

    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x5eed);
    let steps_per_epoch = items.len().div_ceil(cfg.batch_size);
    let mut total = steps_per_epoch * cfg.epochs;
    if cfg.max_steps > 0 {
        total = total.min(cfg.max_steps);
    }
    let warmup = (total / 20).max(1);
    let nl = tax.labels.len();
    let mut losses = Vec::with_capacity(total);
    let started = std::time::Instant::now();
    let mut step = 0;
    'epochs: for _ in 0..cfg.epochs {
        // Shuffle, then sort within pools of 50 batches by length, so batches pad little but
        // stay random.
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.shuffle(&mut rng);
        for pool in order.chunks_mut(cfg.batch_size * 50) {
            pool.sort_by_key(|&i| items[i].char_ids.len());
        }
        let mut batches: Vec<&[usize]> = order.chunks(cfg.batch_size).collect();
        batches.shuffle(&mut rng);
        for idx in batches {
            if step >= total {
                break 'epochs;
            }
            let lr = if step < warmup {
                cfg.lr * (step + 1) as f64 / warmup as f64
            } else {
                cfg.lr * (total - step) as f64 / (total - warmup).max(1) as f64
            };
            opt.set_lr(lr.max(cfg.lr * 0.02));
            let batch: Vec<&Item> = idx.iter().map(|&i| &items[i]).collect();
            let s = loss_for(&net, &batch, &mut rng, cfg, nl, &dev)?;
            let lv = s.loss.to_scalar::<f32>()?;
            if !lv.is_finite() {
                return Err(ModelError::Train(format!(
                    "loss became {lv} at step {step}"
                )));
            }
            losses.push(lv);
            let grads = s.loss.backward()?;
            opt.step(&grads)?;
            step += 1;
            if step % 50 == 0 || step == total {
                let recent = &losses[losses.len().saturating_sub(50)..];
                progress(
                    step,
                    total,
                    recent.iter().sum::<f32>() / recent.len() as f32,
                );
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    // Characters the training data never showed stand for "unknown": give them the UNK row
    // (trained on hidden characters), so an unseen character reads as its pinyin and context.
    {
        let data = varmap
            .data()
            .lock()
            .map_err(|_| ModelError::Train("variable map lock poisoned".into()))?;
        if let Some(emb) = data.get("tok_emb.weight") {
            let mut rows = emb.as_tensor().to_vec2::<f32>()?;
            let unk = rows[UNK as usize].clone();
            for (id, row) in rows.iter_mut().enumerate() {
                let id = id as u32;
                if encoder.vocab().is_char_id(id) && !seen.contains(&id) {
                    row.clone_from(&unk);
                }
            }
            let flat: Vec<f32> = rows.into_iter().flatten().collect();
            emb.set(&Tensor::from_vec(
                flat,
                emb.as_tensor().shape().clone(),
                &dev,
            )?)?;
        }
    }
    std::fs::create_dir_all(out).map_err(|e| ModelError::io(out, e))?;
    varmap.save(out.join("model.safetensors"))?;
    bundle::write(out, "tokenizer.json", tokenizer_json.as_bytes())?;
    for name in bundle::LEXICON_FILES {
        let text = lex.raw.get(name).map(String::as_str).unwrap_or("");
        bundle::write(out, &format!("lexicon/{name}"), text.as_bytes())?;
    }
    let config = BundleConfig {
        format: bundle::FORMAT,
        architecture: "claimnet-dilated-cnn".into(),
        net: net_cfg,
        labels: tax.label_ids().map(String::from).collect(),
        products: tax.product_ids().map(String::from).collect(),
        taxonomy_version: tax.version.clone(),
        pinyin,
        window: cfg.window,
        stride: cfg.stride,
        span_threshold: cfg.span_threshold,
    };
    bundle::write_json(out, "config.json", &config)?;
    bundle::write_json(out, "train_config.json", cfg)?;
    let head = |v: &[f32]| {
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f32>() / v.len() as f32
        }
    };
    Ok(TrainSummary {
        windows: items.len(),
        steps: step,
        first_loss: head(&losses[..losses.len().min(50)]),
        last_loss: head(&losses[losses.len().saturating_sub(50)..]),
        vocab_size: encoder.vocab().len(),
        parameters,
        seconds,
    })
}

/// The loss of the current weights on a batch, and each trainable tensor's gradient norm (for
/// the gradient-flow test).
#[doc(hidden)]
pub fn gradient_norms(
    train: &[Weighted],
    lex: &Lexicons,
    tax: &Taxonomy,
    cfg: &TrainConfig,
) -> Result<BTreeMap<String, f32>> {
    let dev = Device::Cpu;
    let normalizer = Normalizer::new(lex);
    let jieba = jieba_with(&lex.userdict)?;
    let texts: Vec<&str> = train.iter().map(|w| w.example.text.as_str()).collect();
    let (c, w) = count_tokens(&texts, &normalizer, &jieba);
    let encoder = Encoder::new(lex, Vocab::build(&c, &w, 1, cfg.max_words))?;
    let items: Vec<Item> = train
        .iter()
        .flat_map(|w| make_items(w, &encoder.encode(&w.example.text), tax, cfg))
        .collect();
    let net_cfg = NetConfig {
        vocab_size: encoder.vocab().len(),
        pinyin_size: encoder.vocab().pinyin_len(),
        emb_dim: cfg.emb_dim,
        hidden: cfg.hidden,
        kernel: cfg.kernel,
        dilations: cfg.dilations.clone(),
        n_labels: tax.labels.len(),
        n_products: tax.products.len(),
    };
    let varmap = VarMap::new();
    let mut named = Vec::new();
    {
        let mut data = varmap
            .data()
            .lock()
            .map_err(|_| ModelError::Train("variable map lock poisoned".into()))?;
        for (name, t) in init_weights(&net_cfg, cfg.seed, &dev)? {
            let var = Var::from_tensor(&t)?;
            data.insert(name.clone(), var.clone());
            named.push((name, var));
        }
    }
    let net = ClaimNet::new(&net_cfg, VarBuilder::from_varmap(&varmap, DType::F32, &dev))?;
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let refs: Vec<&Item> = items.iter().collect();
    let s = loss_for(
        &net,
        &refs,
        &mut rng,
        &TrainConfig {
            char_drop: 0.0,
            ..cfg.clone()
        },
        tax.labels.len(),
        &dev,
    )?;
    let grads = s.loss.backward()?;
    let mut out = BTreeMap::new();
    for (name, var) in named {
        let n = match grads.get(var.as_tensor()) {
            Some(g) => g.sqr()?.sum_all()?.sqrt()?.to_scalar::<f32>()?,
            None => 0.0,
        };
        out.insert(name, n);
    }
    Ok(out)
}
