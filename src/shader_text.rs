//! Shader text composition: WGSL files under `shaders/` joined with small per-dtype snippets,
//! `//#if NAME` / `//#else` / `//#endif` line directives, `//#unroll` blocks, and `$NAME`
//! placeholders.
//!
//! naga 30 rejects `enable subgroups;` and has no preprocessor, so variants (f16 native or
//! packed, subgroup or workgroup reduction, vec4 or scalar loads) are selected here, in text,
//! before the module is created. Every composed variant is listed by [`crate::shaders::catalog`]
//! and validated by naga in the tests.

use std::collections::BTreeSet;

/// Keeps the lines whose enclosing `//#if` conditions hold, drops the directive lines.
/// `//#if A` holds when `A` is defined, `//#if !A` when it is not; blocks nest.
pub(crate) fn preprocess(text: &str, defines: &BTreeSet<&str>) -> String {
    let mut out = String::with_capacity(text.len());
    // Each entry: (this branch is active, the enclosing block is active).
    let mut stack: Vec<(bool, bool)> = Vec::new();
    let active = |stack: &Vec<(bool, bool)>| stack.last().is_none_or(|s| s.0);
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(cond) = t.strip_prefix("//#if ") {
            let cond = cond.trim();
            let holds = match cond.strip_prefix('!') {
                Some(name) => !defines.contains(name.trim()),
                None => defines.contains(cond),
            };
            let parent = active(&stack);
            stack.push((parent && holds, parent));
        } else if t.starts_with("//#else") {
            if let Some(top) = stack.last_mut() {
                // The else branch is active when the parent is and the if branch was not.
                let was = top.0;
                top.0 = top.1 && !was;
            }
        } else if t.starts_with("//#endif") {
            stack.pop();
        } else if active(&stack) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Expands `//#unroll NAME COUNT` … `//#end` blocks (nesting allowed): the lines between are
/// repeated COUNT times (a number, or a prelude constant from `consts`), the identifier NAME
/// replaced by `0u`, `1u`, … (not where it follows a `.`: a field).
///
/// Why: llvmpipe (lavapipe, llvmpipe GL) did not unroll the GEMV's loops over its rows, so
/// the local arrays they index (accumulators, row indices) lived in stack memory, read and
/// written lane by lane every iteration. Indexed by constants they become registers.
pub(crate) fn unroll(text: &str, consts: &[(&str, u32)]) -> Result<String, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::with_capacity(text.len());
    expand(&lines, consts, &mut out)?;
    Ok(out)
}

fn expand(lines: &[&str], consts: &[(&str, u32)], out: &mut String) -> Result<(), String> {
    let mut i = 0;
    while i < lines.len() {
        let Some(spec) = lines[i].trim_start().strip_prefix("//#unroll ") else {
            if is_end(lines[i]) {
                return Err("//#end without //#unroll".into());
            }
            out.push_str(lines[i]);
            out.push('\n');
            i += 1;
            continue;
        };
        let mut words = spec.split_whitespace();
        let (Some(name), Some(count), None) = (words.next(), words.next(), words.next()) else {
            return Err(format!("malformed //#unroll {spec}"));
        };
        let count = match count.parse::<u32>() {
            Ok(c) => c,
            Err(_) => consts
                .iter()
                .find(|(k, _)| *k == count)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("//#unroll count {count} is not a constant"))?,
        };
        // The matching //#end.
        let mut depth = 1;
        let mut j = i + 1;
        while j < lines.len() {
            let t = lines[j].trim_start();
            if t.starts_with("//#unroll ") {
                depth += 1;
            } else if is_end(t) {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            j += 1;
        }
        if depth != 0 {
            return Err(format!("//#unroll {spec} has no //#end"));
        }
        let mut inner = String::new();
        expand(&lines[i + 1..j], consts, &mut inner)?;
        for v in 0..count {
            out.push_str(&replace_ident(&inner, name, &format!("{v}u")));
        }
        i = j + 1;
    }
    Ok(())
}

/// Whether `line` is an `//#end` (not an `//#endif`).
fn is_end(line: &str) -> bool {
    line.trim() == "//#end"
}

/// `text` with every whole-word `name` not preceded by `.` replaced by `with`.
fn replace_ident(text: &str, name: &str, with: &str) -> String {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(|c| word(c) || c == '.') || after.is_some_and(word) {
            out.push_str(name);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    out
}

/// The kernel parameters (every shader's one `var<uniform>`, binding 0) as a read-only storage
/// buffer, for drivers that recompile shaders for their uniform values
/// (`Caps::params_in_storage`).
pub(crate) fn params_in_storage(text: &str) -> String {
    text.replace("var<uniform>", "var<storage, read>")
}

/// Replaces `$KEY` placeholders. Longer keys first so `$NB` is not eaten by `$N`.
pub(crate) fn substitute(text: &str, vars: &[(&str, String)]) -> String {
    let mut vars: Vec<&(&str, String)> = vars.iter().collect();
    vars.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut s = text.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("${k}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_conditions_select_the_right_lines() {
        let text = "a\n//#if X\nb\n//#if !Y\nc\n//#else\nd\n//#endif\n//#else\ne\n//#endif\nf\n";
        let run = |d: &[&'static str]| preprocess(text, &d.iter().copied().collect());
        assert_eq!(run(&["X"]), "a\nb\nc\nf\n");
        assert_eq!(run(&["X", "Y"]), "a\nb\nd\nf\n");
        assert_eq!(run(&[]), "a\ne\nf\n");
        assert_eq!(run(&["Y"]), "a\ne\nf\n");
    }

    #[test]
    fn unroll_repeats_blocks_with_constant_indices() {
        let text = "a\n//#unroll r ROWS\nx[r] = P.r + rows[r];\n//#unroll m 2\ny[r * 2 + m];\n//#end\n//#end\nb\n";
        let got = unroll(text, &[("ROWS", 2)]).unwrap();
        assert_eq!(
            got,
            "a\nx[0u] = P.r + rows[0u];\ny[0u * 2 + 0u];\ny[0u * 2 + 1u];\n\
             x[1u] = P.r + rows[1u];\ny[1u * 2 + 0u];\ny[1u * 2 + 1u];\nb\n"
        );
        assert!(unroll("//#unroll r N\nx\n//#end\n", &[]).is_err());
        assert!(unroll("//#unroll r 2\nx\n", &[]).is_err());
        assert!(unroll("x\n//#end\n", &[]).is_err());
        // An //#endif is not an //#end.
        assert_eq!(unroll("//#endif\n", &[]).unwrap(), "//#endif\n");
    }

    #[test]
    fn substitute_prefers_longer_keys() {
        let s = substitute("$N_buf $NB", &[("N", "x".into()), ("NB", "7".into())]);
        assert_eq!(s, "x_buf 7");
    }
}
