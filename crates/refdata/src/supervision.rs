//! What a tariff line's supervision conditions (监管条件) demand: the prohibitions and the
//! licences (监管证件) for a direction. One reading, shared by the clearance checks (V0209,
//! V0210) and the generator that must produce declarations that pass them.

use crate::tables::CodeTable;

/// Whether `condition` prohibits the goods: 9 (禁止进口商品) on import, 8 (禁止出口商品) on
/// export, and 6 (旧机电产品禁止进口) on import of goods declared used — new goods of those
/// lines may come in.
pub fn prohibits(condition: char, import: bool, used: bool) -> bool {
    match condition {
        '9' => import,
        '8' => !import,
        '6' => import && used,
        _ => false,
    }
}

/// The licence codes that `conditions` require in this direction, each once, in the order of
/// the conditions, with their names from the licence-document table. Not licences:
/// statutory inspection (A, B), which routes goods; v and x, for processing trade; y, for
/// border trade; 0, an exclusion code; and the prohibitions 6, 8, 9. A licence applies to
/// the direction its name says (进口/入境, 出口/出境); one whose name says neither applies to
/// both. Codes the table lacks require nothing.
pub fn required_licences<'t>(
    conditions: &str,
    import: bool,
    table: &'t CodeTable,
) -> Vec<(char, &'t str)> {
    let mut codes: Vec<(char, &str)> = Vec::new();
    for condition in conditions.chars() {
        if matches!(
            condition,
            'A' | 'B' | 'v' | 'x' | 'y' | '0' | '6' | '8' | '9'
        ) {
            continue;
        }
        let Some(entry) = table.get(&condition.to_string()) else {
            continue;
        };
        let name = entry.name_zh.as_str();
        let for_import = name.contains("进口") || name.contains("入境");
        let for_export = name.contains("出口") || name.contains("出境");
        let applies = if import {
            for_import || !for_export
        } else {
            for_export || !for_import
        };
        if applies && !codes.iter().any(|(c, _)| *c == condition) {
            codes.push((condition, name));
        }
    }
    codes
}
