/** The page's only style sheet (inline; system fonts only). Phase colours differ in lightness too, for grey-scale prints. */
export const STYLE = `
:root{color-scheme:light;font-family:system-ui,sans-serif;font-size:15px;color:#1b1b1b;background:#fff}
body{margin:0 auto;max-width:1100px;padding:1rem}
h1{font-size:1.5rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem}h3{font-size:1.05rem}h4{font-size:.95rem}
.meta,.note{color:#555;font-size:.9rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid #ddd;padding:.15rem .4rem;text-align:left;vertical-align:top;word-break:break-all}
td.n{text-align:right}
.scroll{overflow-x:auto}
svg.chart{display:block;max-width:100%;height:auto;font-size:9px}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:1rem}
.sides svg.chart{font-size:14px}
.lane{fill:#333;font-weight:600}
.tick{fill:#555;text-anchor:middle}.tick.y{text-anchor:end}
.grid{stroke:#eee}.axis{stroke:#999}
.p-queued{fill:#c9c9c9}.p-dns{fill:#1b9e77}.p-connect{fill:#d95f02}.p-tls{fill:#7570b3}.p-wait{fill:#e6ab02}.p-transfer{fill:#1f5fbf}
.tp{fill:#1f5fbf}
g.err rect{stroke:#c00;stroke-width:1}
g.retry rect{stroke-dasharray:2 1;stroke:#000;stroke-width:.5}
.mark{fill:#c00;color:#c00;font-weight:700}
g.agg rect{fill:#9fb4d6}g.agg text{fill:#102040}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem;font-size:.85rem}
.st-pass{color:#176f2c}.st-warn{color:#8a5a00}.st-fail{color:#b00020;font-weight:700}.st-skip,.st-info{color:#555}
.verdicts{list-style:none;padding:0}.badge{display:inline-block;min-width:3em;font-weight:700;text-transform:uppercase}
details.data{margin:.3rem 0 1rem}
code{word-break:break-all}
@media print{details.data{display:none}}
`;
