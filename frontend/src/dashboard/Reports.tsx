// The reports page: for a period (and a team or an operator), tickets per
// day, the first-response and resolution time distributions with their
// median and 90th percentile, satisfaction, and the same per operator and
// per team; the per-day rows as CSV. Charts are drawn with uPlot.
import { useSignal } from '@preact/signals';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

import { duration, formatDate, num } from '../shared/format';
import { t } from '../shared/i18n';
import type { Distribution, Report } from '../shared/types';
import { describe } from './ops';
import type { Store } from './store';

const COLORS = { created: '#0b57d0', closed: '#1a7f37', bars: '#6639ba', csat: '#9a6700' };

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export function ReportsScreen({ store }: { store: Store }) {
  const today = new Date();
  const filters = useSignal({ from: isoDay(new Date(today.getTime() - 29 * 86400_000)), to: isoDay(today), team: '', operator: '' });
  const report = useSignal<Report | null>(null);
  const load = async () => {
    try {
      report.value = await store.api.report(filters.value);
    } catch (e) {
      store.toast(describe(e), 'error');
    }
  };
  useEffect(() => void load(), []);
  const set = (k: keyof typeof filters.value) => (e: Event) => (filters.value = { ...filters.value, [k]: (e.currentTarget as HTMLInputElement).value });
  const download = async () => {
    try {
      const csv = await store.api.reportCsv(filters.value);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
      a.download = `switchboard-report-${filters.value.from}-${filters.value.to}.csv`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    } catch (e) {
      store.toast(describe(e), 'error');
    }
  };
  const f = filters.value;
  const r = report.value;
  return (
    <section class="screen reports" aria-labelledby="rep-title" data-testid="reports-screen">
      <h2 id="rep-title">{t('rep.title')}</h2>
      <form
        class="search-form"
        onSubmit={(e) => {
          e.preventDefault();
          void load();
        }}
      >
        <label>
          {t('rep.from')}
          <input type="date" required value={f.from} onInput={set('from')} />
        </label>
        <label>
          {t('rep.to')}
          <input type="date" required value={f.to} onInput={set('to')} />
        </label>
        <label>
          {t('rep.team')}
          <select value={f.team} onChange={set('team')}>
            <option value="">{t('rep.all')}</option>
            {store.teams.value.map((x) => (
              <option key={x.teamId} value={x.teamId}>
                {x.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('rep.operator')}
          <select value={f.operator} onChange={set('operator')}>
            <option value="">{t('rep.all')}</option>
            {store.operators.value.map((o) => (
              <option key={o.id} value={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary">
          {t('rep.show')}
        </button>
        <button type="button" onClick={() => void download()} data-testid="csv">
          {t('rep.csv')}
        </button>
      </form>
      {!r ? (
        <p role="status">{t('common.loading')}</p>
      ) : (
        <div class="charts">
          <figure class="chart-card wide">
            <figcaption>{t('rep.perDay')}</figcaption>
            <PerDayChart report={r} />
          </figure>
          <DistributionCard title={t('rep.firstResponse')} d={r.firstResponse} testid="chart-first-response" />
          <DistributionCard title={t('rep.resolution')} d={r.resolution} testid="chart-resolution" />
          <figure class="chart-card">
            <figcaption>{t('rep.csat')}</figcaption>
            <p class="figure-line" data-testid="csat-average">
              {t('rep.csatAverage', { value: r.csat.average == null ? '–' : num(r.csat.average, 2), n: r.csat.count })}
            </p>
            <BarChart
              testid="chart-csat"
              labels={['1', '2', '3', '4', '5']}
              values={['1', '2', '3', '4', '5'].map((k) => r.csat.distribution[k] ?? 0)}
              color={COLORS.csat}
              label={t('rep.count')}
            />
          </figure>
          <GroupTable title={t('rep.byOperator')} rows={r.operators.map((o) => ({ ...o, key: o.operatorId, name: o.name || o.operatorId }))} testid="rep-operators" />
          <GroupTable title={t('rep.byTeam')} rows={r.teams.map((x) => ({ ...x, key: x.team || '-', name: x.team || '–' }))} testid="rep-teams" />
        </div>
      )}
    </section>
  );
}

/** A uPlot chart in a div, made again when its data changes and removed with it. */
function Chart({ opts, data, testid, summary }: { opts: Omit<uPlot.Options, 'width' | 'height'>; data: uPlot.AlignedData; testid: string; summary: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current!;
    const plot = new uPlot({ width: Math.max(280, el.clientWidth), height: 220, ...opts }, data, el);
    return () => plot.destroy();
  }, [JSON.stringify(data)]);
  return <div class="chart" ref={box} data-testid={testid} role="img" aria-label={summary} />;
}

function PerDayChart({ report }: { report: Report }) {
  const xs = report.days.map((d) => Date.parse(d.date + 'T00:00:00Z') / 1000);
  const created = report.days.map((d) => d.created);
  const closed = report.days.map((d) => d.closed);
  const summary = `${t('rep.perDay')}: ${t('rep.created')} ${created.reduce((a, b) => a + b, 0)}, ${t('rep.closed')} ${closed.reduce((a, b) => a + b, 0)}`;
  return (
    <Chart
      testid="chart-per-day"
      summary={summary}
      data={[xs, created, closed]}
      opts={{
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ values: (_u, splits) => splits.map((s) => formatDate(new Date(s * 1000), { month: 'short', day: 'numeric', timeZone: 'UTC' })) }, {}],
        series: [
          {},
          { label: t('rep.created'), stroke: COLORS.created, width: 2, fill: 'rgba(11,87,208,0.08)' },
          { label: t('rep.closed'), stroke: COLORS.closed, width: 2 },
        ],
      }}
    />
  );
}

/** Bars over categories (histogram buckets, scores). */
function BarChart({ labels, values, color, label, testid }: { labels: string[]; values: number[]; color: string; label: string; testid: string }) {
  const xs = labels.map((_, i) => i);
  return (
    <Chart
      testid={testid}
      summary={labels.map((l, i) => `${l}: ${values[i]}`).join(', ')}
      data={[xs, values]}
      opts={{
        legend: { show: false },
        scales: { x: { time: false, range: [-0.5, labels.length - 0.5] }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{ splits: () => xs, values: (_u, splits) => splits.map((s) => labels[s] ?? '') }, {}],
        series: [{}, { label, fill: color, stroke: color, paths: uPlot.paths.bars!({ size: [0.7, 80] }), points: { show: false } }],
      }}
    />
  );
}

function DistributionCard({ title, d, testid }: { title: string; d: Distribution; testid: string }) {
  const labels = d.histogram.map((b) => (b.upToSeconds == null ? '>' : '≤') + ' ' + duration(b.upToSeconds ?? d.histogram[d.histogram.length - 2]?.upToSeconds));
  return (
    <figure class="chart-card">
      <figcaption>{title}</figcaption>
      <p class="figure-line" data-testid={`${testid}-figures`}>
        {t('rep.median', { value: duration(d.medianSeconds) })} · {t('rep.p90', { value: duration(d.p90Seconds) })}
      </p>
      <BarChart testid={testid} labels={labels} values={d.histogram.map((b) => b.count)} color={COLORS.bars} label={t('rep.count')} />
    </figure>
  );
}

function GroupTable(props: {
  title: string;
  testid: string;
  rows: { key: string; name: string; tickets: number; firstResponseMedianSeconds: number | null; resolutionMedianSeconds: number | null; csatAverage: number | null }[];
}) {
  return (
    <figure class="chart-card wide">
      <figcaption>{props.title}</figcaption>
      {props.rows.length === 0 ? (
        <p class="empty">{t('rep.none')}</p>
      ) : (
        <table class="table" data-testid={props.testid}>
          <thead>
            <tr>
              <th scope="col">{t('rep.name')}</th>
              <th scope="col">{t('rep.count')}</th>
              <th scope="col">{t('rep.frMedian')}</th>
              <th scope="col">{t('rep.resMedian')}</th>
              <th scope="col">{t('rep.csatAvg')}</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr key={r.key}>
                <th scope="row">{r.name}</th>
                <td>{num(r.tickets)}</td>
                <td>{duration(r.firstResponseMedianSeconds)}</td>
                <td>{duration(r.resolutionMedianSeconds)}</td>
                <td>{r.csatAverage == null ? '–' : num(r.csatAverage, 2)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </figure>
  );
}
