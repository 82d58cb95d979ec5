//! A plain-Rust AdamW over candle `Var`s (candle-nn's costs about three times as much per
//! parameter, see shared/reference/measurements.md). Embedding tables are updated lazily: a
//! row whose gradient is all zero this step (a token absent from the batch) is left alone, so
//! big tables cost little and rows of never-seen tokens keep their initial value.

use candle_core::Var;
use candle_core::backprop::GradStore;

use crate::error::Result;

/// AdamW settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamWConfig {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay.
    pub beta1: f64,
    /// Second-moment decay.
    pub beta2: f64,
    /// Numerical floor.
    pub eps: f64,
    /// Decoupled weight decay (not applied to biases).
    pub weight_decay: f64,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 1e-4,
        }
    }
}

struct Slot {
    var: Var,
    w: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    /// Row width for lazily updated tables.
    row: Option<usize>,
    /// Per-row step counts (lazy tables) for bias correction.
    steps: Vec<u32>,
    decay: bool,
}

/// The optimiser.
pub struct AdamW {
    cfg: AdamWConfig,
    slots: Vec<Slot>,
    t: u32,
}

impl AdamW {
    /// Set up over named vars; `lazy(name)` says which are row-wise lazy tables,
    /// `decay(name)` which get weight decay.
    pub fn new(
        vars: Vec<(String, Var)>,
        cfg: AdamWConfig,
        lazy: impl Fn(&str) -> bool,
        decay: impl Fn(&str) -> bool,
    ) -> Result<Self> {
        let mut slots = Vec::new();
        for (name, var) in vars {
            let w = var.as_tensor().flatten_all()?.to_vec1::<f32>()?;
            let row = if lazy(&name) {
                var.as_tensor().dims().last().copied()
            } else {
                None
            };
            let rows = row.map_or(0, |r| w.len() / r.max(1));
            slots.push(Slot {
                m: vec![0.0; w.len()],
                v: vec![0.0; w.len()],
                w,
                row,
                steps: vec![0; rows],
                decay: decay(&name),
                var,
            });
        }
        Ok(Self { cfg, slots, t: 0 })
    }

    /// Set the learning rate (for schedules).
    pub fn set_lr(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }

    /// One update from the gradients of a backward pass. Vars without a gradient are skipped.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.t += 1;
        let c = self.cfg;
        let (b1, b2) = (c.beta1 as f32, c.beta2 as f32);
        for s in &mut self.slots {
            let Some(g) = grads.get(s.var.as_tensor()) else {
                continue;
            };
            let g = g.flatten_all()?.to_vec1::<f32>()?;
            let update = |w: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32], t: u32| {
                let bc1 = 1.0 - b1.powi(t as i32);
                let bc2 = 1.0 - b2.powi(t as i32);
                let lr = c.lr as f32;
                let wd = if s.decay { c.weight_decay as f32 } else { 0.0 };
                for i in 0..w.len() {
                    m[i] = b1 * m[i] + (1.0 - b1) * g[i];
                    v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
                    let mh = m[i] / bc1;
                    let vh = v[i] / bc2;
                    w[i] -= lr * (mh / (vh.sqrt() + c.eps as f32) + wd * w[i]);
                }
            };
            match s.row {
                Some(r) if r > 0 => {
                    for (k, gr) in g.chunks(r).enumerate() {
                        if gr.iter().all(|x| *x == 0.0) {
                            continue;
                        }
                        s.steps[k] += 1;
                        let o = k * r;
                        update(
                            &mut s.w[o..o + r],
                            &mut s.m[o..o + r],
                            &mut s.v[o..o + r],
                            gr,
                            s.steps[k],
                        );
                    }
                }
                _ => update(&mut s.w, &mut s.m, &mut s.v, &g, self.t),
            }
            let shape = s.var.as_tensor().shape().clone();
            let t = candle_core::Tensor::from_slice(&s.w, shape, s.var.as_tensor().device())?;
            s.var.set(&t)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    #[test]
    fn minimises_a_quadratic_and_leaves_untouched_rows_alone() {
        let dev = Device::Cpu;
        let table =
            Var::from_tensor(&Tensor::new(&[[1f32, 1.0], [5.0, 5.0]], &dev).unwrap()).unwrap();
        let bias = Var::from_tensor(&Tensor::new(&[3f32], &dev).unwrap()).unwrap();
        let cfg = AdamWConfig {
            lr: 0.1,
            ..AdamWConfig::default()
        };
        let mut opt = AdamW::new(
            vec![("emb".into(), table.clone()), ("b".into(), bias.clone())],
            cfg,
            |n| n == "emb",
            |_| false,
        )
        .unwrap();
        let ids = Tensor::new(&[0u32], &dev).unwrap();
        for _ in 0..300 {
            // loss = sum((emb[0] - 2)^2) + (b + 1)^2; row 1 never used.
            let row = table.as_tensor().index_select(&ids, 0).unwrap();
            let l1 = (row - 2.0).unwrap().sqr().unwrap().sum_all().unwrap();
            let l2 = (bias.as_tensor() + 1.0)
                .unwrap()
                .sqr()
                .unwrap()
                .sum_all()
                .unwrap();
            let g = (l1 + l2).unwrap().backward().unwrap();
            opt.step(&g).unwrap();
        }
        let t = table.as_tensor().to_vec2::<f32>().unwrap();
        assert!(
            (t[0][0] - 2.0).abs() < 0.05 && (t[0][1] - 2.0).abs() < 0.05,
            "{t:?}"
        );
        assert_eq!(t[1], vec![5.0, 5.0], "unused row moved");
        let b = bias.as_tensor().to_vec1::<f32>().unwrap()[0];
        assert!((b + 1.0).abs() < 0.05, "{b}");
    }
}
