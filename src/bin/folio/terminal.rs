//! Terminal output helpers: document text is untrusted, so everything printed from it goes
//! through `terminal_safe`.

pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn short_name(file: &str) -> String {
    let name = std::path::Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    terminal_safe(&name)
}

/// About 300 characters around the first match, with matches marked (bold in a terminal).
pub fn snippet(text: &str, highlights: &[(usize, usize)], color: bool) -> String {
    const WIDTH: usize = 300;
    let chars: Vec<char> = text.chars().collect();
    let center = highlights.first().map_or(0, |h| h.0);
    let start = center.saturating_sub(WIDTH / 3);
    let end = (start + WIDTH).min(chars.len());
    let (open, close) = if color {
        ("\x1b[1;33m", "\x1b[0m")
    } else {
        ("**", "**")
    };
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut position = start;
    for &(s, e) in highlights.iter().filter(|&&(s, e)| s >= start && e <= end) {
        out.push_str(&terminal_safe(
            &chars[position..s].iter().collect::<String>(),
        ));
        out.push_str(open);
        out.push_str(&terminal_safe(&chars[s..e].iter().collect::<String>()));
        out.push_str(close);
        position = e;
    }
    out.push_str(&terminal_safe(
        &chars[position..end].iter().collect::<String>(),
    ));
    if end < chars.len() {
        out.push('…');
    }
    out.replace('\n', " ")
}

/// Text from documents, file names and the model may hold control characters (escape
/// sequences, bells) and bidirectional overrides that disguise a name; never let them reach
/// the terminal raw. The desktop UI applies the same rule (`ui/src/lib/text.ts`).
pub fn terminal_safe(text: &str) -> String {
    let unsafe_char = |c: char| {
        (c.is_control() && !matches!(c, '\n' | '\t'))
            || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    text.chars()
        .map(|c| if unsafe_char(c) { '\u{FFFD}' } else { c })
        .collect()
}
