//! Shader text composition: WGSL files under `shaders/` joined with small per-dtype snippets,
//! `//#if NAME` / `//#else` / `//#endif` line directives, and `$NAME` placeholders.
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
    fn substitute_prefers_longer_keys() {
        let s = substitute("$N_buf $NB", &[("N", "x".into()), ("NB", "7".into())]);
        assert_eq!(s, "x_buf 7");
    }
}
