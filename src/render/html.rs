//! `--format html`: one self-contained HTML page (inline CSS, JS and SVG; nothing is fetched) with
//! a summary, a sortable and filterable findings table, a per-table view and plots.
//!
//! A pure function over the findings and optional facts about the target: the caller passes the
//! time of the run, so the same input renders the same page. Every text that comes from the input
//! (identifiers, messages, SQL) is HTML-escaped; a Content-Security-Policy allows no network access
//! and only the page's own script, so even an unescaped `onerror=` attribute would not run. The
//! page shows findings, names and sizes only: no row data and no query parameter values.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use super::{Report, counts, location_text};
use crate::diagnostic::{Diagnostic, Severity};
use crate::parse::ir::ConstraintKind;
use crate::schema::{Origin, QualName, Schema, Table};

/// The database (or migration set) the report is about.
#[derive(Debug, Clone, Default)]
pub struct TargetInfo {
    /// What to call it: the redacted connection target or the database name.
    pub name: String,
    /// The server version (`server_version`), when known.
    pub version: Option<String>,
    /// The database size in bytes (`pg_database_size`), when known.
    pub size_bytes: Option<i64>,
}

/// One query's timing against its budget (the EXPLAIN runner's results).
#[derive(Debug, Clone)]
pub struct QueryTiming {
    pub name: String,
    pub median_ms: f64,
    pub budget_ms: Option<f64>,
}

/// What the page shows besides the findings.
#[derive(Debug, Clone, Default)]
pub struct HtmlContext<'a> {
    /// The page title, e.g. `dbwarden audit`.
    pub title: &'a str,
    pub target: Option<&'a TargetInfo>,
    /// When the run happened (e.g. `2026-11-22 02:51:09 UTC`).
    pub generated_at: Option<&'a str>,
    /// The schema model, for the per-table view and the table-size plot.
    pub schema: Option<&'a Schema>,
    pub queries: &'a [QueryTiming],
}

/// Tables listed in the per-table view at most (largest and those with findings first).
const MAX_TABLES: usize = 1000;
/// Bars in the table-size plot.
const MAX_BARS: usize = 20;
/// The script's nonce: the policy admits only scripts carrying it, never inline handlers. It is
/// new for every report (a fixed one could be copied into injected markup): 128 bits from
/// `/dev/urandom`, else from the standard library's randomly keyed hasher, time and pid.
fn nonce() -> String {
    use std::io::Read as _;
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)).is_ok();
    if !from_os {
        use std::hash::{BuildHasher, Hasher};
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(now);
            h.write_u32(std::process::id());
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HTML-escapes text for element content and quoted attribute values; control and bidi
/// characters are written visibly (`\u{202e}`), line ends kept.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in super::visible_lines(s).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A byte count for people: `12.3 MB`.
pub fn human_bytes(n: i64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = n as f64;
    let mut u = 0;
    while v.abs() >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} B") } else { format!("{v:.1} {}", units[u]) }
}

fn human_rows(r: f64) -> String {
    if r < 0.0 {
        "unknown".into()
    } else if r >= 1e9 {
        format!("{:.1}G", r / 1e9)
    } else if r >= 1e6 {
        format!("{:.1}M", r / 1e6)
    } else if r >= 1e4 {
        format!("{:.1}k", r / 1e3)
    } else {
        format!("{r:.0}")
    }
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the Unix epoch.
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem % 3600 / 60, rem % 60)
}

fn sev_rank(s: Severity) -> u8 {
    match s {
        Severity::Info => 1,
        Severity::Warning => 2,
        Severity::Error => 3,
    }
}

fn sev_color(rank: u8) -> &'static str {
    match rank {
        3 => "#c62828",
        2 => "#ef8f00",
        1 => "#1e88e5",
        _ => "#9e9e9e",
    }
}

/// Whether `inner` lies within (or overlaps) `origin`'s statement in the same file.
fn overlaps(origin: &Origin, d: &Diagnostic) -> bool {
    match origin {
        Origin::Source { file, span } => {
            d.object.is_none() && *file == d.file && d.span.start < span.end && span.start < d.span.end
        }
        Origin::Catalog { .. } => false,
    }
}

/// The table a finding is about: by its object name (`schema.table[.x]`), or by the statement
/// that defined the table or one of its constraints, triggers or policies.
fn table_of<'a>(
    schema: &'a Schema,
    by_object: &BTreeMap<String, &'a QualName>,
    d: &Diagnostic,
) -> Option<&'a QualName> {
    if let Some(o) = &d.object {
        // The longest table name that the object starts with.
        let mut end = o.len();
        loop {
            if let Some(t) = by_object.get(&o[..end]) {
                return Some(t);
            }
            end = o[..end].rfind('.')?;
        }
    }
    schema.tables.values().find_map(|t| {
        let hit = overlaps(&t.created, d)
            || t.constraints.iter().any(|c| overlaps(&c.origin, d))
            || t.triggers.iter().any(|c| overlaps(&c.origin, d))
            || t.policies.iter().any(|c| overlaps(&c.origin, d));
        hit.then_some(&t.name)
    })
}

fn object_name(q: &QualName) -> String {
    format!("{}.{}", q.schema, q.name)
}

/// Renders the report as one HTML page.
pub fn html(out: &mut dyn Write, report: &Report<'_>, ctx: &HtmlContext<'_>) -> std::io::Result<()> {
    out.write_all(render(report, ctx).as_bytes())
}

/// The page as a string.
pub fn render(report: &Report<'_>, ctx: &HtmlContext<'_>) -> String {
    let diags = report.diagnostics;
    let mut by_object: BTreeMap<String, &QualName> = BTreeMap::new();
    if let Some(s) = ctx.schema {
        for t in s.tables.values() {
            by_object.insert(object_name(&t.name), &t.name);
        }
    }
    let tables: Vec<Option<&QualName>> =
        diags.iter().map(|d| ctx.schema.and_then(|s| table_of(s, &by_object, d))).collect();
    // Per table: findings (indexes into diags) and the worst severity.
    let mut per_table: BTreeMap<&QualName, Vec<usize>> = BTreeMap::new();
    for (i, t) in tables.iter().enumerate() {
        if let Some(t) = t {
            per_table.entry(t).or_default().push(i);
        }
    }
    let worst = |t: &QualName| {
        per_table.get(t).map_or(0, |v| v.iter().map(|&i| sev_rank(diags[i].severity)).max().unwrap_or(0))
    };

    let title = if ctx.title.is_empty() { "dbwarden report" } else { ctx.title };
    let nonce = nonce();
    let mut h = String::with_capacity(16 * 1024 + diags.len() * 600);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        escape(&match ctx.target {
            Some(t) => format!("{title}: {}", t.name),
            None => title.to_owned(),
        })
    );

    // Summary.
    let c = counts(diags);
    let _ = write!(h, "<header><h1>{}</h1><dl class=\"facts\">", escape(title));
    if let Some(t) = ctx.target {
        let _ = write!(h, "<div><dt>Database</dt><dd id=\"target\">{}</dd></div>", escape(&t.name));
        if let Some(v) = &t.version {
            let _ = write!(h, "<div><dt>Version</dt><dd>{}</dd></div>", escape(v));
        }
        if let Some(b) = t.size_bytes {
            let _ = write!(h, "<div><dt>Size</dt><dd>{}</dd></div>", human_bytes(b));
        }
    }
    if let Some(at) = ctx.generated_at {
        let _ = write!(h, "<div><dt>Run at</dt><dd>{}</dd></div>", escape(at));
    }
    if let Some(s) = ctx.schema {
        let _ = write!(
            h,
            "<div><dt>Tables</dt><dd>{}</dd></div><div><dt>Indexes</dt><dd>{}</dd></div>",
            s.tables.len(),
            s.indexes.len()
        );
    }
    h.push_str("</dl></header>\n<main>\n<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for (label, n, rank) in [("errors", c.errors, 3u8), ("warnings", c.warnings, 2), ("infos", c.infos, 1)] {
        let _ = write!(
            h,
            "<div class=\"card\" style=\"border-color:{}\"><span class=\"n\" id=\"count-{label}\">{n}</span><span>{label}</span></div>",
            sev_color(rank)
        );
    }
    let _ = write!(
        h,
        "<div class=\"card\"><span class=\"n\" id=\"count-total\">{}</span><span>findings</span></div></div>",
        diags.len()
    );
    let mut by_rule: BTreeMap<&str, (usize, Severity)> = BTreeMap::new();
    for d in diags {
        let e = by_rule.entry(d.rule.name()).or_insert((0, d.severity));
        e.0 += 1;
        e.1 = e.1.max(d.severity);
    }
    if by_rule.is_empty() {
        h.push_str("<p class=\"clean\">No findings.</p>");
    } else {
        h.push_str("<table class=\"byrule\"><thead><tr><th>rule</th><th>worst severity</th><th>findings</th></tr></thead><tbody>");
        let mut rules: Vec<_> = by_rule.into_iter().collect();
        rules.sort_by(|a, b| (b.1.1, b.1.0).cmp(&(a.1.1, a.1.0)).then(a.0.cmp(b.0)));
        for (rule, (n, sev)) in rules {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td><span class=\"sev s{}\">{}</span></td><td>{n}</td></tr>",
                escape(rule),
                sev_rank(sev),
                sev.as_str()
            );
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("</section>\n");

    // Plots.
    if let Some(s) = ctx.schema {
        size_plot(&mut h, s, &worst);
    }
    if !ctx.queries.is_empty() {
        query_plot(&mut h, ctx.queries);
    }

    // Findings.
    h.push_str(
        "<section id=\"findings\"><h2>Findings</h2>\n<div class=\"filters\">\
         <input id=\"f-text\" type=\"search\" placeholder=\"filter: rule, table, message\" aria-label=\"filter findings\">\
         <select id=\"f-sev\" aria-label=\"minimum severity\"><option value=\"0\">all severities</option><option value=\"1\">info and above</option>\
         <option value=\"2\">warning and above</option><option value=\"3\">errors only</option></select>\
         <select id=\"f-rule\" aria-label=\"rule\"><option value=\"\">all rules</option>",
    );
    let mut rule_names: Vec<&str> = diags.iter().map(|d| d.rule.name()).collect();
    rule_names.sort_unstable();
    rule_names.dedup();
    for r in &rule_names {
        let _ = write!(h, "<option value=\"{0}\">{0}</option>", escape(r));
    }
    let _ = write!(
        h,
        "</select><span id=\"f-count\">{} of {} shown</span></div>\n\
         <table id=\"findings-table\"><thead><tr><th data-key=\"sev\" data-type=\"num\">severity</th><th data-key=\"rule\">rule</th>\
         <th data-key=\"loc\">where</th><th data-key=\"table\">table</th><th data-key=\"msg\">finding</th></tr></thead><tbody>\n",
        diags.len(),
        diags.len()
    );
    for (i, d) in diags.iter().enumerate() {
        let rank = sev_rank(d.severity);
        let loc = location_text(report, d);
        let table = tables[i].map(ToString::to_string).unwrap_or_default();
        // The table's size when the finding carries it (live findings), for sorting by impact.
        let impact = d.table_stats.map_or(String::new(), |(rows, bytes)| {
            format!("<br><small>{} rows, {}</small>", human_rows(rows), human_bytes(bytes))
        });
        let _ = write!(
            h,
            "<tr data-sev=\"{rank}\" data-rule=\"{rule}\" data-loc=\"{loc}\" data-table=\"{table}\" data-msg=\"{msg}\" data-i=\"{i}\">\
             <td><span class=\"sev s{rank}\">{sev}</span></td><td><code>{rule}</code></td><td class=\"loc\">{loc}</td><td>{table}{impact}</td><td>{msg}",
            rule = escape(d.rule.name()),
            loc = escape(&loc),
            table = escape(&table),
            msg = escape(&d.message),
            sev = d.severity.as_str(),
        );
        if d.help.is_some() || d.fix.is_some() {
            h.push_str("<details><summary>help and fix</summary>");
            if let Some(help) = &d.help {
                let _ = write!(h, "<p>{}</p>", escape(help));
            }
            if let Some(fix) = report.fix_preview(d) {
                let _ = write!(h, "<pre class=\"fix\"><code>{}</code></pre>", escape(&fix));
            }
            h.push_str("</details>");
        }
        h.push_str("</td></tr>\n");
    }
    h.push_str("</tbody></table></section>\n");

    // Per-table view.
    if let Some(s) = ctx.schema {
        tables_view(&mut h, s, diags, &per_table, &worst);
    }

    let _ = write!(
        h,
        "</main>\n<footer>Generated by dbwarden {}. This page is self-contained and loads nothing from the network.</footer>\n\
         <pre id=\"selftest\" hidden></pre>\n<script nonce=\"{nonce}\">{JS}</script>\n</body>\n</html>\n",
        env!("CARGO_PKG_VERSION")
    );
    h
}

fn table_bytes(t: &Table) -> Option<i64> {
    t.stats.as_ref().map(|s| s.total_bytes)
}

/// The largest tables as horizontal bars, coloured by their worst finding.
fn size_plot(h: &mut String, s: &Schema, worst: &dyn Fn(&QualName) -> u8) {
    let mut sized: Vec<(&Table, i64)> = s.tables.values().filter_map(|t| table_bytes(t).map(|b| (t, b))).collect();
    if sized.is_empty() {
        return;
    }
    sized.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name.cmp(&b.0.name)));
    sized.truncate(MAX_BARS);
    let max = sized.first().map_or(1, |x| x.1).max(1) as f64;
    let (label_w, bar_w, row_h) = (260.0, 520.0, 22.0);
    let height = row_h * sized.len() as f64 + 40.0;
    let _ = write!(
        h,
        "<section id=\"sizes\"><h2>Largest tables</h2><p class=\"note\">Total size (table, TOAST and indexes), coloured by the table's worst finding.</p>\
         <svg id=\"size-plot\" role=\"img\" aria-label=\"largest tables by size\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        w = label_w + bar_w + 110.0
    );
    for (i, (t, b)) in sized.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let w = (*b as f64 / max * bar_w).max(1.0);
        let rank = worst(&t.name);
        let name = t.name.to_string();
        let shown: String =
            if name.chars().count() > 36 { name.chars().take(35).chain(['…']).collect() } else { name.clone() };
        let rows = t.stats.as_ref().map_or(String::new(), |s| format!(", {} rows", human_rows(s.estimated_rows())));
        let _ = write!(
            h,
            "<g><title>{full}: {size}{rows}</title><text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{shown}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"{fill}\" data-worst=\"{rank}\"></rect>\
             <text x=\"{vx:.1}\" y=\"{ty}\">{size}</text></g>",
            full = escape(&name),
            shown = escape(&shown),
            size = human_bytes(*b),
            tx = label_w - 6.0,
            ty = y + 15.0,
            bh = row_h - 6.0,
            fill = sev_color(rank),
            vx = label_w + w + 6.0,
        );
    }
    let ly = height - 14.0;
    let mut lx = label_w;
    for (label, rank) in [("error", 3u8), ("warning", 2), ("info", 1), ("no finding", 0)] {
        let _ = write!(
            h,
            "<rect x=\"{lx}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"></rect><text x=\"{}\" y=\"{ly}\">{label}</text>",
            ly - 10.0,
            sev_color(rank),
            lx + 16.0
        );
        lx += 100.0;
    }
    h.push_str("</svg></section>\n");
}

/// Each query's median time against its budget.
fn query_plot(h: &mut String, queries: &[QueryTiming]) {
    let max = queries.iter().map(|q| q.median_ms.max(q.budget_ms.unwrap_or(0.0))).fold(0.0_f64, f64::max).max(0.001);
    let (label_w, bar_w, row_h) = (260.0, 520.0, 22.0);
    let height = row_h * queries.len() as f64 + 20.0;
    let _ = write!(
        h,
        "<section id=\"queries\"><h2>Query timings</h2><p class=\"note\">Median execution time; the black tick is the budget. Red: over budget.</p>\
         <svg id=\"query-plot\" role=\"img\" aria-label=\"query median time against budget\" width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\" xmlns=\"http://www.w3.org/2000/svg\">",
        w = label_w + bar_w + 160.0
    );
    for (i, q) in queries.iter().enumerate() {
        let y = 10.0 + row_h * i as f64;
        let w = (q.median_ms / max * bar_w).max(1.0);
        let over = q.budget_ms.is_some_and(|b| q.median_ms > b);
        let budget = q.budget_ms.map_or(String::new(), |b| format!(" / {b:.1} ms"));
        let _ = write!(
            h,
            "<g><title>{name}: median {m:.2} ms{budget}</title><text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{name}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"{fill}\"></rect>",
            name = escape(&q.name),
            m = q.median_ms,
            tx = label_w - 6.0,
            ty = y + 15.0,
            bh = row_h - 6.0,
            fill = if over { "#c62828" } else { "#43a047" },
        );
        if let Some(b) = q.budget_ms {
            let bx = label_w + b / max * bar_w;
            let _ = write!(
                h,
                "<line x1=\"{bx:.1}\" x2=\"{bx:.1}\" y1=\"{}\" y2=\"{}\" stroke=\"#000\" stroke-width=\"2\"></line>",
                y - 2.0,
                y + row_h - 4.0
            );
        }
        let _ = write!(
            h,
            "<text x=\"{:.1}\" y=\"{}\">{:.2} ms{budget}</text></g>",
            label_w + bar_w + 8.0,
            y + 15.0,
            q.median_ms
        );
    }
    h.push_str("</svg></section>\n");
}

fn tables_view(
    h: &mut String,
    s: &Schema,
    diags: &[Diagnostic],
    per_table: &BTreeMap<&QualName, Vec<usize>>,
    worst: &dyn Fn(&QualName) -> u8,
) {
    if s.tables.is_empty() {
        return;
    }
    let mut list: Vec<&Table> = s.tables.values().collect();
    list.sort_by(|a, b| {
        (worst(&b.name), table_bytes(b).unwrap_or(-1))
            .cmp(&(worst(&a.name), table_bytes(a).unwrap_or(-1)))
            .then(a.name.cmp(&b.name))
    });
    let hidden = list.len().saturating_sub(MAX_TABLES);
    list.truncate(MAX_TABLES);
    h.push_str("<section id=\"tables\"><h2>Tables</h2>");
    if hidden > 0 {
        let _ = write!(h, "<p class=\"note\">{hidden} more tables without findings are not listed.</p>");
    }
    h.push_str(
        "<table id=\"tables-table\"><thead><tr><th>table</th><th>rows</th><th>size</th><th>row-level security</th>\
         <th>indexes</th><th>foreign keys</th><th>findings</th></tr></thead><tbody>\n",
    );
    for t in list {
        let (rows, size) = match &t.stats {
            Some(st) => (human_rows(st.estimated_rows()), human_bytes(st.total_bytes)),
            None => ("—".into(), "—".into()),
        };
        let rls = match (t.rls_enabled, t.rls_forced) {
            (false, _) => "off".to_owned(),
            (true, forced) => format!(
                "on{}, {} {}",
                if forced { " (forced)" } else { "" },
                t.policies.len(),
                if t.policies.len() == 1 { "policy" } else { "policies" }
            ),
        };
        let rank = worst(&t.name);
        let _ = write!(
            h,
            "<tr data-worst=\"{rank}\"><td><span class=\"dot\" style=\"background:{}\"></span><code>{}</code></td><td>{rows}</td><td>{size}</td><td>{rls}</td><td>",
            sev_color(rank),
            escape(&t.name.to_string())
        );
        let idx: Vec<_> = s.indexes_on(&t.name).collect();
        if idx.is_empty() {
            h.push('—');
        } else {
            h.push_str("<ul>");
            for i in idx {
                let keys: Vec<String> = i
                    .keys
                    .iter()
                    .map(|k| match k {
                        crate::parse::ir::IndexKey::Column(c) => c.clone(),
                        crate::parse::ir::IndexKey::Expr(e) => format!("({e})"),
                    })
                    .collect();
                let mut flags = Vec::new();
                if i.unique {
                    flags.push("unique".to_owned());
                }
                if i.method != "btree" {
                    flags.push(i.method.clone());
                }
                if i.predicate.is_some() {
                    flags.push("partial".into());
                }
                if !i.valid {
                    flags.push("INVALID".into());
                }
                if let Some(st) = &i.stats {
                    flags.push(format!("{} scans, {}", st.scans, human_bytes(st.bytes)));
                }
                let _ = write!(
                    h,
                    "<li><code>{}</code> ({}){}</li>",
                    escape(&i.name.name),
                    escape(&keys.join(", ")),
                    if flags.is_empty() {
                        String::new()
                    } else {
                        format!(" <small>{}</small>", escape(&flags.join(", ")))
                    }
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</td><td>");
        let fks: Vec<_> = t
            .constraints
            .iter()
            .filter_map(|c| match &c.kind {
                ConstraintKind::ForeignKey(fk) => Some((c, fk)),
                _ => None,
            })
            .collect();
        if fks.is_empty() {
            h.push('—');
        } else {
            h.push_str("<ul>");
            for (c, fk) in fks {
                let action = if fk.on_delete == crate::parse::ir::RefAction::NoAction {
                    String::new()
                } else {
                    format!(" on delete {}", fk.on_delete.as_sql().to_lowercase())
                };
                let _ = write!(
                    h,
                    "<li><code>{}</code> ({}) → {}{}</li>",
                    escape(&c.name),
                    escape(&fk.columns.join(", ")),
                    escape(&fk.ref_table.to_string()),
                    escape(&action)
                );
            }
            h.push_str("</ul>");
        }
        h.push_str("</td><td>");
        match per_table.get(&t.name) {
            None => h.push('—'),
            Some(found) => {
                h.push_str("<ul>");
                for &i in found {
                    let d = &diags[i];
                    let _ = write!(
                        h,
                        "<li><span class=\"sev s{}\">{}</span> <code>{}</code></li>",
                        sev_rank(d.severity),
                        d.severity.as_str(),
                        escape(d.rule.name())
                    );
                }
                h.push_str("</ul>");
            }
        }
        h.push_str("</td></tr>\n");
    }
    h.push_str("</tbody></table></section>\n");
}

const CSS: &str = r##"
:root{--fg:#1d2330;--muted:#5f6b7a;--line:#dde2ea;--bg:#f6f8fb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:18px 28px}
header h1{margin:0 0 8px;font-size:22px}
.facts{display:flex;flex-wrap:wrap;gap:6px 28px;margin:0}
.facts div{display:flex;gap:6px}.facts dt{color:#aab4c3}.facts dd{margin:0;font-weight:600}
main{padding:8px 28px 28px;max-width:1400px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:16px 0}
h2{margin:0 0 10px;font-size:17px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:12px}
.card{border:1px solid var(--line);border-left:6px solid #607d8b;border-radius:6px;padding:8px 16px;min-width:120px;display:flex;flex-direction:column}
.card .n{font-size:26px;font-weight:700}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid var(--line)}
th{background:#eef1f6;font-weight:600;white-space:nowrap}
#findings-table th{cursor:pointer;user-select:none}
#findings-table th.asc::after{content:" ▲"}#findings-table th.desc::after{content:" ▼"}
table.byrule{width:auto;min-width:420px}
.sev{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.s3{background:#c62828}.s2{background:#ef8f00}.s1{background:#1e88e5}
.dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
td.loc{font:12.5px ui-monospace,monospace;word-break:break-all}
#findings-table td:nth-child(2) code{word-break:normal;white-space:nowrap}
pre.fix{background:#f3f5f9;border:1px solid var(--line);padding:8px;overflow:auto;white-space:pre-wrap}
details summary{cursor:pointer;color:var(--muted)}
.filters{display:flex;gap:10px;align-items:center;margin-bottom:10px;flex-wrap:wrap}
.filters input{flex:1;min-width:240px;padding:6px 8px;border:1px solid var(--line);border-radius:6px}
.filters select{padding:6px;border:1px solid var(--line);border-radius:6px}
#f-count{color:var(--muted)}
.note,.clean{color:var(--muted);margin-top:0}
ul{margin:0;padding-left:16px}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}
footer{color:var(--muted);padding:0 28px 24px}
tr.hidden{display:none}
"##;

const JS: &str = r##"
(function(){
  "use strict";
  var errors = [];
  window.addEventListener("error", function(e){ errors.push(String(e.message)); });
  var table = document.getElementById("findings-table");
  if (!table) return;
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var text = document.getElementById("f-text");
  var sev = document.getElementById("f-sev");
  var rule = document.getElementById("f-rule");
  var count = document.getElementById("f-count");
  function key(tr, k){ return tr.getAttribute("data-" + k) || ""; }
  function apply(){
    var q = text.value.trim().toLowerCase(), min = +sev.value, r = rule.value, shown = 0;
    rows.forEach(function(tr){
      var hay = (key(tr,"rule") + " " + key(tr,"loc") + " " + key(tr,"table") + " " + key(tr,"msg")).toLowerCase();
      var ok = (+key(tr,"sev") >= min) && (!r || key(tr,"rule") === r) && (!q || hay.indexOf(q) >= 0);
      tr.classList.toggle("hidden", !ok);
      if (ok) shown++;
    });
    count.textContent = shown + " of " + rows.length + " shown";
    return shown;
  }
  function sortBy(k, numeric, dir){
    rows.sort(function(a, b){
      var x = key(a,k), y = key(b,k), c;
      if (numeric) c = (+x) - (+y); else c = x.localeCompare(y);
      if (c === 0) c = (+key(a,"i")) - (+key(b,"i"));
      return dir * c;
    });
    rows.forEach(function(tr){ body.appendChild(tr); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th){
      th.classList.remove("asc", "desc");
      if (th.getAttribute("data-key") === k) th.classList.add(dir > 0 ? "asc" : "desc");
    });
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function(th){
    th.addEventListener("click", function(){
      var dir = th.classList.contains("desc") ? 1 : (th.classList.contains("asc") ? -1 : (th.getAttribute("data-type") === "num" ? -1 : 1));
      sortBy(th.getAttribute("data-key"), th.getAttribute("data-type") === "num", dir);
    });
  });
  [text, sev, rule].forEach(function(el){ el.addEventListener("input", apply); el.addEventListener("change", apply); });
  sortBy("sev", true, -1);
  apply();

  if (location.hash === "#selftest") {
    var res = {errors: errors, checks: {}};
    function visible(){ return rows.filter(function(tr){ return !tr.classList.contains("hidden"); }); }
    function sorted(k, numeric, dir){
      var v = Array.prototype.slice.call(body.rows).map(function(tr){ return key(tr,k); });
      for (var i = 1; i < v.length; i++) {
        var c = numeric ? (+v[i-1]) - (+v[i]) : v[i-1].localeCompare(v[i]);
        if (dir * c > 0) return false;
      }
      return true;
    }
    try {
      res.rows = rows.length;
      sortBy("sev", true, -1); res.checks.sort_severity_desc = sorted("sev", true, -1);
      sortBy("sev", true, 1); res.checks.sort_severity_asc = sorted("sev", true, 1);
      sortBy("rule", false, 1); res.checks.sort_rule_asc = sorted("rule", false, 1);
      var th = table.tHead.rows[0].cells[1]; th.click(); res.checks.click_sorts = th.classList.contains("asc") || th.classList.contains("desc");
      sev.value = "3"; apply(); res.checks.filter_errors = visible().every(function(tr){ return key(tr,"sev") === "3"; });
      res.errors_shown = visible().length;
      sev.value = "0"; text.value = "zz-no-such-finding-zz"; apply(); res.checks.filter_text_none = visible().length === 0;
      var first = rows[0]; text.value = first ? key(first,"rule") : ""; apply();
      res.checks.filter_text_rule = !first || visible().length >= 1;
      text.value = ""; rule.value = first ? key(first,"rule") : ""; apply();
      res.checks.filter_rule = visible().every(function(tr){ return key(tr,"rule") === rule.value || !rule.value; });
      rule.value = ""; apply(); res.checks.reset = visible().length === rows.length;
      res.checks.no_injected_elements = document.querySelectorAll("img,iframe,object,embed").length === 0;
      res.ok = Object.keys(res.checks).every(function(k){ return res.checks[k] === true; }) && errors.length === 0;
    } catch (e) { res.ok = false; res.exception = String(e); }
    sortBy("sev", true, -1); apply();
    var out = document.getElementById("selftest");
    out.textContent = JSON.stringify(res);
    out.hidden = false;
  }
})();
"##;
