// Renders bench/out/results.json as the markdown tables BENCHMARKS.md uses.
import { fmtMs, fmtRatio, fmtRss } from './harness.mjs';

export function markdown(m, benches) {
  const out = [
    `Machine: ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}; ostree ${m.tools.ostree}; ${m.tools.flatpak}; ${m.tools.xz}; ${m.tools.sha256sum}; ${m.tools.openssl ?? 'no openssl'}. Spawn floor ${fmtMs(m.spawnFloorMs)}. Source: ${m.source?.head}${m.source?.uncommittedClientSrcFiles ? ` + ${m.source.uncommittedClientSrcFiles} uncommitted files under packages/client/src` : ''}.`,
    '',
  ];
  for (const [name, res] of Object.entries(benches)) {
    out.push(
      `### ${name}: ${res.title}`,
      '',
      `Run ${res.date}, ${res.seconds?.toFixed(0)} s; other processes' CPU use just before: ${res.otherCpuBefore == null ? '?' : `${(res.otherCpuBefore * 100).toFixed(0)} %`}; load average ${res.loadavg1?.before?.toFixed(2)} → ${res.loadavg1?.after?.toFixed(2)}.`,
      '',
    );
    out.push(
      '| case | ours (median / min) | ours RSS | reference (median / min) | ref RSS | ratio of medians (of mins) | target | notes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
    );
    for (const r of res.rows) {
      const cell = (x) => (x ? `${x.label}: ${fmtMs(x.median)} / ${fmtMs(x.min)}` : '–');
      const target = r.target ? `${r.target.met ? '**met**' : '**missed**'} (${r.target.text})` : '';
      out.push(
        `| ${r.case} | ${cell(r.ours)} | ${fmtRss(r.ours?.rssKb)} | ${cell(r.ref)} | ${fmtRss(r.ref?.rssKb)} | ${fmtRatio(r.ratio)}${r.ours && r.ref ? ` (${fmtRatio(r.ref.min / r.ours.min)})` : ''} | ${target} | ${r.notes ?? ''} |`,
      );
    }
    for (const n of res.notes ?? []) out.push('', `- ${n}`);
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
