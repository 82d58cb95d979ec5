//! The Label Studio labelling config, generated from the taxonomy. The committed copy is
//! `datasets/labelstudio/config.xml`; regenerate it with `qingwang data labelstudio-config`.

use crate::taxonomy::Taxonomy;

/// Path of the committed config, relative to the repository root.
pub const CONFIG_PATH: &str = "datasets/labelstudio/config.xml";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The labelling config: `text` shown, `evidence` span labels, `labels` multi choice,
/// `product` single choice, `note` text area. Control names match
/// [`super::labelstudio`].
pub fn labelstudio_config(tax: &Taxonomy) -> String {
    let mut x = String::new();
    x.push_str("<!-- Generated from datasets/taxonomy.json by `qingwang data labelstudio-config`; do not edit. -->\n");
    x.push_str(&format!(
        "<!-- taxonomy version {} -->\n",
        esc(&tax.version)
    ));
    x.push_str("<View>\n");
    x.push_str("  <Header value=\"文本 Text\"/>\n");
    x.push_str("  <Text name=\"text\" value=\"$text\" granularity=\"symbol\"/>\n");
    x.push_str("  <Header value=\"证据片段 Evidence spans\"/>\n");
    x.push_str("  <Labels name=\"evidence\" toName=\"text\" choice=\"multiple\">\n");
    for l in &tax.labels {
        x.push_str(&format!(
            "    <Label value=\"{}\" hint=\"{}\"/>\n",
            esc(&l.id),
            esc(&l.zh)
        ));
    }
    x.push_str("  </Labels>\n");
    x.push_str("  <Header value=\"违规类型 Claim labels (none = no violation)\"/>\n");
    choices(
        &mut x,
        "labels",
        "multiple",
        tax.labels.iter().map(|l| (&l.id, &l.zh, &l.definition)),
    );
    x.push_str("  <Header value=\"产品类别 Product\"/>\n");
    choices(
        &mut x,
        "product",
        "single",
        tax.products.iter().map(|p| (&p.id, &p.zh, &p.definition)),
    );
    x.push_str("  <Header value=\"备注 Note\"/>\n");
    x.push_str("  <TextArea name=\"note\" toName=\"text\" rows=\"2\" editable=\"true\" maxSubmissions=\"1\"/>\n");
    x.push_str("</View>\n");
    x
}

/// One `<Choices>` block: a choice per `(value, name, definition)`, the hint reading "name: definition".
fn choices<'a>(
    x: &mut String,
    name: &str,
    choice: &str,
    items: impl Iterator<Item = (&'a String, &'a String, &'a String)>,
) {
    x.push_str(&format!(
        "  <Choices name=\"{name}\" toName=\"text\" choice=\"{choice}\" showInline=\"false\">\n"
    ));
    for (id, zh, def) in items {
        x.push_str(&format!(
            "    <Choice value=\"{}\" hint=\"{}: {}\"/>\n",
            esc(id),
            esc(zh),
            esc(def)
        ));
    }
    x.push_str("  </Choices>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_config_is_generated() {
        let path = crate::repo_path(CONFIG_PATH);
        if std::env::var_os("QINGWANG_BLESS").is_some() {
            std::fs::write(&path, labelstudio_config(&Taxonomy::builtin())).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            committed,
            labelstudio_config(&Taxonomy::builtin()),
            "run `qingwang data labelstudio-config` to regenerate"
        );
    }

    #[test]
    fn every_label_and_product_is_present() {
        let tax = Taxonomy::builtin();
        let c = labelstudio_config(&tax);
        for l in &tax.labels {
            assert_eq!(
                c.matches(&format!("value=\"{}\"", l.id)).count(),
                2,
                "{}",
                l.id
            );
        }
        for p in &tax.products {
            assert!(c.contains(&format!("<Choice value=\"{}\"", p.id)));
        }
    }
}
