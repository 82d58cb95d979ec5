//! Property tests: any string in → a result out, never a panic; spans in bounds, ordered, and
//! quoting exactly the original text in every unit; normalisation alignment in bounds.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed setup is a failed test

use proptest::prelude::*;
use qingwang_datasets::Lexicons;
use qingwang_model::normalize::Normalizer;
use qingwang_model::{Classifier, ClassifyOptions, bundle};
use std::sync::OnceLock;

fn clf() -> &'static Classifier {
    static C: OnceLock<Classifier> = OnceLock::new();
    C.get_or_init(|| {
        Classifier::load(&bundle::default_dir())
            .unwrap()
            .with_max_text_chars(2_000)
    })
}

fn mixed_text() -> impl Strategy<Value = String> {
    let pieces = prop::collection::vec(
        prop_oneof![
            Just("治愈".to_string()),
            Just("摘镜".to_string()),
            Just("無副作用".to_string()),
            Just("家人们".to_string()),
            Just(" ".to_string()),
            Just("👀".to_string()),
            Just("\u{200B}".to_string()),
            Just("ＦＤＡ".to_string()),
            Just("zhiyu".to_string()),
            "\\PC{0,6}".prop_map(|s| s),
            any::<char>().prop_map(|c| c.to_string()),
        ],
        0..40,
    );
    pieces.prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn any_string_classifies_without_panic_and_spans_point_at_the_original(text in mixed_text()) {
        let (preds, _) = clf().classify(&[text.as_str()], &ClassifyOptions::default()).unwrap();
        prop_assert_eq!(preds.len(), 1);
        if let Ok(p) = &preds[0] {
            let chars: Vec<char> = text.chars().collect();
            let utf16: Vec<u16> = text.encode_utf16().collect();
            for s in &p.spans {
                prop_assert!(s.char_start < s.char_end && s.char_end <= chars.len());
                prop_assert_eq!(&s.text, &chars[s.char_start..s.char_end].iter().collect::<String>());
                prop_assert_eq!(&s.text, &text[s.byte_start..s.byte_end]);
                prop_assert_eq!(&s.text, &String::from_utf16(&utf16[s.utf16_start..s.utf16_end]).unwrap());
                prop_assert!(p.labels.iter().any(|l| l.id == s.label));
            }
            for w in p.spans.windows(2) {
                prop_assert!(w[0].char_start <= w[1].char_start);
            }
            prop_assert!((0.0..=1.0).contains(&p.score));
            prop_assert_eq!(p.violation, !p.labels.is_empty());
        }
    }

    #[test]
    fn normalisation_alignment_stays_in_bounds(text in mixed_text()) {
        static N: OnceLock<Normalizer> = OnceLock::new();
        let n = N.get_or_init(|| Normalizer::new(&Lexicons::builtin().unwrap()));
        let norm = n.normalize(&text);
        prop_assert_eq!(norm.chars.len(), norm.align.len());
        prop_assert_eq!(norm.original_len, text.chars().count());
        for &(a, b) in &norm.align {
            prop_assert!(a < b && b <= norm.original_len);
        }
        for w in norm.align.windows(2) {
            prop_assert!(w[0].0 <= w[1].0, "alignment goes backwards");
        }
    }
}

#[test]
fn long_texts_are_windowed_not_cut() {
    // A claim at the very end of a text far longer than the window is still found.
    let filler = "今天直播间人好多啊 欢迎新来的宝宝 点点关注 ".repeat(40);
    let text = format!("{filler}这个眼镜戴三个月直接摘镜 三二一上链接");
    assert!(text.chars().count() > 3 * clf().config().window);
    let (p, _) = clf()
        .classify(&[text.as_str()], &ClassifyOptions::default())
        .unwrap();
    let p = p[0].as_ref().unwrap();
    assert!(p.violation, "claim at the end of a long text was missed");
    let tail_start = filler.chars().count();
    assert!(
        p.spans.iter().any(|s| s.char_start >= tail_start),
        "{:?}",
        p.spans
    );
}
