//! Offset conversion between the dataset's char (Unicode scalar value) offsets and UTF-16 code
//! units, which Label Studio counts (an emoji outside the BMP is two units). doccano counts code
//! points, like the dataset, so it needs no conversion. Combining marks are code points of their
//! own in both conventions.

/// UTF-16 offset of char offset `char_off`; `None` past the end.
pub fn char_to_utf16(text: &str, char_off: usize) -> Option<usize> {
    let mut units = 0;
    let mut chars = text.chars();
    for _ in 0..char_off {
        units += chars.next()?.len_utf16();
    }
    Some(units)
}

/// Char offset of UTF-16 offset `unit_off`; `None` past the end or inside a surrogate pair.
pub fn utf16_to_char(text: &str, unit_off: usize) -> Option<usize> {
    let mut units = 0;
    for (i, c) in text.chars().enumerate() {
        if units == unit_off {
            return Some(i);
        }
        if units > unit_off {
            return None;
        }
        units += c.len_utf16();
    }
    (units == unit_off).then(|| text.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        // (text, char offset, utf16 offset)
        let cases = [
            ("治愈近视", 4, 4),
            ("👋治愈", 1, 2),
            ("👋治愈", 3, 4),
            ("家人们👋👋治愈近视", 5, 7),
            ("e\u{301}治", 2, 2), // combining acute: its own code point and unit
            ("", 0, 0),
            ("𠀀療效", 1, 2), // CJK extension B is outside the BMP too
        ];
        for (text, c, u) in cases {
            assert_eq!(char_to_utf16(text, c), Some(u), "{text} {c}");
            assert_eq!(utf16_to_char(text, u), Some(c), "{text} {u}");
        }
    }

    #[test]
    fn rejects_out_of_bounds_and_split_surrogates() {
        assert_eq!(char_to_utf16("治愈", 3), None);
        assert_eq!(utf16_to_char("治愈", 3), None);
        assert_eq!(utf16_to_char("👋治", 1), None);
    }
}
