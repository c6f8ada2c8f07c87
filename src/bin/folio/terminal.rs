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

/// Text from documents may hold control characters; never let them reach the terminal raw.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect()
}
