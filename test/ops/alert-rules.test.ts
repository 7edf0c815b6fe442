// The Prometheus alert rules in temporal-docker/alerts.yml: loaded by prometheus.yml, mounted by the compose file,
// well-formed, and built only from metrics Herald really serves (a renamed metric would silently never fire).
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { HeraldMetrics } from '../../platform/metrics';

const deployDir = path.resolve(__dirname, '..', '..', 'temporal-docker');
const read = (file: string) => fs.readFileSync(path.join(deployDir, file), 'utf8');

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const rules = (parse(read('alerts.yml')) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap(
  (g) => g.rules,
);

describe('temporal-docker/alerts.yml', () => {
  it('is loaded by prometheus.yml from where the compose file mounts it', () => {
    const prometheus = parse(read('prometheus.yml')) as { rule_files?: string[] };
    expect(prometheus.rule_files).toContain('/etc/prometheus/alerts.yml');
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { volumes?: string[] }>;
    };
    expect(compose.services.prometheus?.volumes).toContain('./alerts.yml:/etc/prometheus/alerts.yml:ro');
  });

  it('has well-formed rules: name, balanced expression, duration, severity, summary', () => {
    expect(rules.length).toBeGreaterThanOrEqual(4);
    for (const rule of rules) {
      expect({ alert: rule.alert, ok: /^Herald[A-Za-z]+$/.test(rule.alert ?? '') }).toEqual({
        alert: rule.alert,
        ok: true,
      });
      const expr = rule.expr ?? '';
      let depth = 0;
      for (const char of expr) {
        depth += char === '(' ? 1 : char === ')' ? -1 : 0;
        expect(depth).toBeGreaterThanOrEqual(0);
      }
      expect({ alert: rule.alert, depth }).toEqual({ alert: rule.alert, depth: 0 });
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary).toBeTruthy();
      for (const text of Object.values(rule.annotations ?? {})) {
        for (const [, inner] of text.matchAll(/\{\{([^}]*)\}\}/g)) expect(inner).toMatch(/^\s*\$(labels\.\w+|value)\b/);
      }
    }
  });

  it('alerts on a growing backlog (add workers) from the queue gauges, unless the queue is rate limited', () => {
    const growing = rules.find((r) => r.alert === 'HeraldTaskQueueBacklogGrowing');
    expect(growing?.expr).toContain('herald_task_queue_backlog_count');
    expect(growing?.expr).toContain('herald_task_queue_backlog_age_seconds');
    expect(growing?.expr).toMatch(/deriv\(herald_task_queue_backlog_count\[\d+m\]\)/);
    expect(growing?.expr).toContain('unless max by (task_queue, type) (herald_task_queue_rate_limited) == 1');
    expect(growing?.annotations?.summary).toMatch(/add workers/);
  });

  it('uses only metrics that Herald serves', async () => {
    const metrics = new HeraldMetrics({ defaultMetrics: false });
    const served = new Set<string>();
    for (const metric of await metrics.registry.getMetricsAsJSON()) {
      served.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) served.add(metric.name + suffix);
    }
    const used = new Set(rules.flatMap((r) => [...(r.expr ?? '').matchAll(/\bherald_[a-z_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !served.has(name))).toEqual([]);
  });
});
