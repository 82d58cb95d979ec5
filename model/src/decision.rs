//! The decision rule: from label probabilities to the labels a text carries, with per-label
//! thresholds and an optional violation gate.

/// Which labels a text carries, from its label probabilities and per-label thresholds.
///
/// Without a gate, every label at or above its threshold. With a gate, the text is a violation
/// only when its highest probability reaches the gate, and then carries the labels at or above
/// their thresholds, or its top label when none is (ties: the first). The gate decides
/// violation versus none; the thresholds decide which claims, so each can be tuned for its
/// own job.
pub fn gated_flags(probs: &[f32], thresholds: &[f32], gate: Option<f32>) -> Vec<bool> {
    let mut flags: Vec<bool> = probs.iter().zip(thresholds).map(|(p, t)| p >= t).collect();
    let Some(g) = gate else {
        return flags;
    };
    let top = probs
        .iter()
        .enumerate()
        .fold(None::<(usize, f32)>, |best, (i, &p)| match best {
            Some((_, b)) if b >= p => best,
            _ => Some((i, p)),
        });
    match top {
        Some((i, p)) if p >= g => {
            if !flags.iter().any(|f| *f) {
                flags[i] = true;
            }
        }
        _ => flags.iter_mut().for_each(|f| *f = false),
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_decides_violation_and_the_thresholds_decide_labels() {
        let th = [0.5, 0.3, 0.7];
        // No gate: every label at its threshold.
        assert_eq!(
            gated_flags(&[0.6, 0.2, 0.7], &th, None),
            [true, false, true]
        );
        assert_eq!(gated_flags(&[0.4, 0.2, 0.6], &th, None), [false; 3]);
        // Gate closed: nothing, even a label over its own threshold.
        assert_eq!(gated_flags(&[0.1, 0.35, 0.2], &th, Some(0.4)), [false; 3]);
        // Gate open: the labels at their thresholds...
        assert_eq!(
            gated_flags(&[0.6, 0.35, 0.2], &th, Some(0.4)),
            [true, true, false]
        );
        // ...or the top label when none is; ties go to the first.
        assert_eq!(
            gated_flags(&[0.45, 0.1, 0.66], &th, Some(0.4)),
            [false, false, true]
        );
        assert_eq!(
            gated_flags(&[0.45, 0.1, 0.45], &[0.9; 3], Some(0.4)),
            [true, false, false]
        );
        assert_eq!(gated_flags(&[], &[], Some(0.4)), Vec::<bool>::new());
    }
}
