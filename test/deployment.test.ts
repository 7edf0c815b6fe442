// Checks the production deployment (temporal-docker/, Dockerfile) without Docker: the compose file is parsed and
// interpolated the way `docker compose config` would, then held to what a broken deployment would get wrong.
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { loadConfig, SECRET_VARIABLES } from '../server/config';
import { loadDeliveryConfig } from '../platform/config/delivery';

const root = path.resolve(__dirname, '..');
const deployDir = path.join(root, 'temporal-docker');
const read = (file: string): string => fs.readFileSync(path.join(deployDir, file), 'utf8');

type Dict = Record<string, unknown>;
type Env = Record<string, string>;
interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Env;
  secrets?: (string | { source: string; target?: string })[];
  depends_on?: string[] | Record<string, { condition: string }>;
  ports?: unknown[];
  volumes?: (string | { type?: string; source?: string; target: string })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  deploy?: { replicas?: number | string };
  container_name?: string;
  hostname?: string;
  restart?: string;
}
interface Compose {
  services: Record<string, Service>;
  secrets?: Record<string, { file?: string; environment?: string; external?: unknown }>;
}

const isDict = (value: unknown): value is Dict => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Compose interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(text: string, env: Env): string {
  const pattern = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;
  return text.replace(pattern, (match, braced?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare) as string;
    const value = env[name];
    const missing = op?.startsWith(':') ? !value : value === undefined;
    if (!missing || !op) return value ?? '';
    if (op.endsWith('?')) throw new Error(`required variable ${name} is missing: ${arg ?? ''}`);
    return interpolate(arg ?? '', env);
  });
}

function resolve(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.map((item) => resolve(item, env));
  if (isDict(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, env)]));
  return value;
}

function normaliseEnvironment(environment: unknown): Env {
  const entries = Array.isArray(environment)
    ? environment.map((item) => String(item).split(/=(.*)/s).slice(0, 2))
    : Object.entries(isDict(environment) ? environment : {});
  return Object.fromEntries(entries.map(([key, value]) => [String(key), value == null ? '' : String(value)]));
}

const composeText = read('docker-compose.yml');
const rawCompose = parse(composeText, { merge: true }) as unknown;
const exampleEnv: Env = Object.fromEntries(
  read('.env.example')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]),
);

function loadCompose(env: Env): Compose {
  const compose = resolve(rawCompose, env) as Compose;
  for (const service of Object.values(compose.services)) {
    service.environment = normaliseEnvironment(service.environment);
  }
  return compose;
}

const compose = loadCompose(exampleEnv);
const services = compose.services;
const service = (name: string): Service => {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
};
const env = (name: string): Env => service(name).environment ?? {};
const words = (value: string | string[] | undefined): string =>
  Array.isArray(value) ? value.join(' ') : (value ?? '');
const secretNames = (svc: Service): string[] =>
  (svc.secrets ?? []).map((entry) => (typeof entry === 'string' ? entry : entry.source));
const dependencies = (svc: Service): Record<string, string> =>
  Array.isArray(svc.depends_on)
    ? Object.fromEntries(svc.depends_on.map((name) => [name, 'service_started']))
    : Object.fromEntries(Object.entries(svc.depends_on ?? {}).map(([name, dep]) => [name, dep.condition]));

/** Host path behind a path inside the container, through the service's bind mounts. */
function hostPath(svc: Service, containerPath: string): string | undefined {
  for (const volume of svc.volumes ?? []) {
    const [source, target] = typeof volume === 'string' ? volume.split(':') : [volume.source, volume.target];
    if (!source || !target || !/^\.{1,2}\//.test(source)) continue;
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return path.join(deployDir, source, containerPath.slice(target.length));
    }
  }
  return undefined;
}

// The parts of the Compose Specification schema (compose-spec/compose-spec, schema/compose-spec.json) that a typo here
// would break: unknown keys, depends_on conditions, health checks and secret definitions.
const serviceKeys =
  'annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name ' +
  'cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec ' +
  'depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file ' +
  'environment expose extends external_links extra_hosts gpus group_add healthcheck hostname image init ipc ' +
  'isolation label_file labels links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit ' +
  'models network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_stop ' +
  'privileged profiles provider pull_policy pull_refresh_after read_only restart runtime scale secrets security_opt ' +
  'shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user ' +
  'userns_mode uts volumes volumes_from working_dir';
const stringOrList = { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const composeSchema = {
  type: 'object',
  required: ['services'],
  properties: {
    version: {},
    name: { type: 'string' },
    include: {},
    models: {},
    networks: { type: 'object' },
    volumes: { type: 'object' },
    configs: { type: 'object' },
    services: { type: 'object', additionalProperties: { $ref: '#/definitions/service' } },
    secrets: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          file: { type: 'string' },
          environment: { type: 'string' },
          external: {},
          labels: {},
          driver: {},
          driver_opts: {},
          template_driver: {},
        },
        patternProperties: { '^x-': {} },
        additionalProperties: false,
      },
    },
  },
  patternProperties: { '^x-': {} },
  additionalProperties: false,
  definitions: {
    service: {
      type: 'object',
      properties: {
        ...Object.fromEntries(serviceKeys.split(/\s+/).map((key) => [key, {}])),
        image: { type: 'string' },
        command: { oneOf: [{ type: 'null' }, ...stringOrList.oneOf] },
        entrypoint: { oneOf: [{ type: 'null' }, ...stringOrList.oneOf] },
        restart: { type: 'string' },
        depends_on: {
          oneOf: [
            { type: 'array', items: { type: 'string' } },
            {
              type: 'object',
              additionalProperties: {
                type: 'object',
                required: ['condition'],
                properties: {
                  condition: { enum: ['service_started', 'service_healthy', 'service_completed_successfully'] },
                  restart: { type: ['boolean', 'string'] },
                  required: { type: 'boolean' },
                },
                additionalProperties: false,
              },
            },
          ],
        },
        healthcheck: {
          type: 'object',
          properties: {
            disable: { type: ['boolean', 'string'] },
            test: stringOrList,
            interval: { type: 'string' },
            timeout: { type: 'string' },
            retries: { type: ['number', 'string'] },
            start_period: { type: 'string' },
            start_interval: { type: 'string' },
          },
          additionalProperties: false,
        },
        secrets: {
          type: 'array',
          items: {
            oneOf: [
              { type: 'string' },
              {
                type: 'object',
                required: ['source'],
                properties: { source: {}, target: {}, uid: {}, gid: {}, mode: {} },
                additionalProperties: false,
              },
            ],
          },
        },
        deploy: { type: 'object', properties: { replicas: { type: ['integer', 'string'] } } },
      },
      patternProperties: { '^x-': {} },
      additionalProperties: false,
    },
  },
};

const isOneShot = (name: string): boolean =>
  Object.values(services).some((svc) => dependencies(svc)[name] === 'service_completed_successfully');
// Every secret Herald reads through *_FILE, plus the two credentials that are files by nature.
const heraldSecretVariables = [...SECRET_VARIABLES, 'APNS_KEY', 'FCM_CREDENTIALS'];
// Variables Herald reads that a production deployment leaves unset on purpose.
const notForProduction: Record<string, string> = {
  HERALD_DATA_DIR: 'the embedded default (npm start) only',
  HERALD_TEMPORAL_PORT: 'the embedded dev server only',
  HERALD_TEMPORAL_UI_PORT: 'the embedded dev server only',
  APNS_CA_FILE: 'trusting a local APNs fake in tests',
  HERALD_TASK_QUEUE: 'the default queue name is right for one deployment per namespace',
  HERALD_MONITORED_TASK_QUEUES: "optional extra queues to watch; Herald's own are always watched",
};
/** The variable names Herald's configuration reads, straight from its source. */
function configVariables(): string[] {
  const configFiles = (dir: string, pattern: RegExp) =>
    fs
      .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => pattern.test(file) && !file.endsWith('.test.ts'))
      .map((file) => path.join(dir, file));
  // The platform's part (platform/config/) and each provider folder's own part (*.config.ts).
  const source = [...configFiles('platform/config', /\.ts$/), ...configFiles('activities/providers', /\.config\.ts$/)]
    .map((file) => fs.readFileSync(path.join(root, file), 'utf8'))
    .join('\n');
  return [...new Set([...source.matchAll(/'([A-Z][A-Z0-9]*_[A-Z0-9_]+)'/g)].map((match) => match[1] as string))];
}
// Vonage's "API key" is its account identifier (sent in every request beside the secret), like Twilio's account SID.
const identifiers = ['VONAGE_API_KEY'];
const looksSecret = (name: string): boolean =>
  !identifiers.includes(name) &&
  (/(PASSWORD|PASSWD|PWD|SECRET|TOKEN|_KEY|CREDENTIALS)$/.test(name) || heraldSecretVariables.includes(name));

describe('temporal-docker/docker-compose.yml', () => {
  it('is valid against the key parts of the Compose Specification', () => {
    const validate = new Ajv({ allErrors: true }).compile(composeSchema);
    const valid = validate(rawCompose);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('refuses to start without HERALD_PUBLIC_URL rather than guessing it', () => {
    expect(() => loadCompose({})).toThrow(/HERALD_PUBLIC_URL/);
    const uses = [...composeText.matchAll(/\$\{HERALD_PUBLIC_URL([^}]*)\}/g)].map((match) => match[1]);
    expect(uses.length).toBeGreaterThanOrEqual(2);
    for (const use of uses) expect(use).toMatch(/^:\?/);
  });

  it('documents every variable it reads in .env.example', () => {
    const used = [...composeText.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] as string);
    const documented = read('.env.example');
    const undocumented = [...new Set(used)].filter((name) => !new RegExp(`^#?\\s*${name}=`, 'm').test(documented));
    expect(undocumented).toEqual([]);
  });

  it('pins every image to an exact version, never latest', () => {
    for (const variables of [exampleEnv, { HERALD_PUBLIC_URL: 'https://herald.example.com' }]) {
      for (const [name, svc] of Object.entries(loadCompose(variables).services)) {
        const image = svc.image ?? '';
        const tag = image.includes('@sha256:') ? 'digest' : /:([^/:]+)$/.exec(image)?.[1];
        expect({ name, image, pinned: tag !== undefined && tag !== 'latest' }).toEqual({ name, image, pinned: true });
        if (tag !== 'digest') expect({ name, tag }).toEqual({ name, tag: expect.stringMatching(/^v?\d+\.\d+/) });
      }
    }
  });

  it('runs Temporal server 1.30.x with the admin-tools of the same release', () => {
    const serverTag = /^temporalio\/server:(.+)$/.exec(service('temporal').image ?? '')?.[1];
    expect(serverTag).toMatch(/^1\.30\.\d+$/);
    const adminTools = Object.values(services).filter((svc) => svc.image?.startsWith('temporalio/admin-tools:'));
    expect(adminTools.length).toBeGreaterThanOrEqual(2);
    for (const svc of adminTools) expect(svc.image).toBe(`temporalio/admin-tools:${serverTag}`);
  });

  it('sets the history shard count explicitly, as a literal that cannot drift with .env', () => {
    const rawServer = (rawCompose as { services: Record<string, { environment: Dict }> }).services.temporal;
    const shards = String(rawServer?.environment.NUM_HISTORY_SHARDS);
    expect(shards).toMatch(/^[1-9]\d*$/);
    expect(Number(shards)).toBeGreaterThan(4); // 4 is the template default, meant for development
    // A mounted config file would replace the environment-driven template, and NUM_HISTORY_SHARDS with it.
    expect(env('temporal').TEMPORAL_SERVER_CONFIG_FILE_PATH).toBeUndefined();
  });

  it("gives the server what its embedded config template needs, and the dynamic config file it won't start without", () => {
    const server = env('temporal');
    expect(['postgres12', 'postgres12_pgx']).toContain(server.DB);
    expect(services[server.POSTGRES_SEEDS ?? '']).toBeDefined();
    expect(server.BIND_ON_IP).toBe('0.0.0.0');
    expect(server.POSTGRES_PWD).toBeUndefined();
    const dynamicConfig = hostPath(service('temporal'), server.DYNAMIC_CONFIG_FILE_PATH ?? '');
    expect(dynamicConfig && fs.existsSync(dynamicConfig)).toBe(true);
    expect(parse(fs.readFileSync(dynamicConfig as string, 'utf8'))).toEqual(expect.any(Object));
  });

  it('orders start-up with health and completion conditions, without cycles', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const [target, condition] of Object.entries(dependencies(svc))) {
        const dependency = services[target];
        expect({ name, target, exists: dependency !== undefined }).toEqual({ name, target, exists: true });
        if (condition === 'service_healthy') {
          const test = dependency?.healthcheck?.disable ? undefined : dependency?.healthcheck?.test;
          expect({ target, healthcheck: test }).toEqual({ target, healthcheck: expect.anything() });
        }
        if (condition === 'service_completed_successfully') {
          expect({ target, restart: dependency?.restart ?? 'no' }).toEqual({ target, restart: 'no' });
        }
      }
    }
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string): void => {
      if (done.has(name)) return;
      if (visiting.has(name)) throw new Error(`depends_on cycle through ${name}`);
      visiting.add(name);
      Object.keys(dependencies(service(name))).forEach(visit);
      done.add(name);
    };
    Object.keys(services).forEach(visit);

    expect(dependencies(service('temporal'))['temporal-schema']).toBe('service_completed_successfully');
    expect(dependencies(service('temporal-namespace')).temporal).toBe('service_healthy');
    for (const role of ['api', 'worker']) {
      expect(dependencies(service(role))).toMatchObject({
        'temporal-namespace': 'service_completed_successfully',
        'herald-migrate': 'service_completed_successfully',
      });
    }
  });

  it('health-checks every long-running service', () => {
    for (const [name, svc] of Object.entries(services)) {
      if (isOneShot(name)) continue;
      expect({ name, test: svc.healthcheck?.disable ? undefined : svc.healthcheck?.test }).toEqual({
        name,
        test: expect.anything(),
      });
    }
  });

  it('creates and upgrades both Temporal schemas with temporal-sql-tool, idempotently', () => {
    const job = service('temporal-schema');
    const scriptPath = words(job.entrypoint)
      .split(' ')
      .map((word) => hostPath(job, word))
      .find((file) => file?.endsWith('temporal-schema.sh'));
    expect(scriptPath && fs.existsSync(scriptPath)).toBe(true);
    const script = fs.readFileSync(scriptPath as string, 'utf8');
    for (const step of ['create-database', 'setup-schema --version 0.0', 'update-schema --schema-dir']) {
      expect(script).toContain(`sql_tool --database "$db" ${step}`);
    }
    expect(script).toContain('temporal-sql-tool');
    expect(script).toContain(':temporal" ');
    expect(script).toContain(':visibility"');
    expect(script).toMatch(/\/versioned"/);
    // The databases it prepares are the ones the server opens.
    expect(env('temporal-schema').TEMPORAL_DBNAME).toBe(env('temporal').DBNAME ?? 'temporal');
    expect(env('temporal-schema').TEMPORAL_VISIBILITY_DBNAME).toBe(
      env('temporal').VISIBILITY_DBNAME ?? 'temporal_visibility',
    );
  });

  it("creates Herald's namespace with an explicit retention (the de-duplication window)", () => {
    const job = service('temporal-namespace');
    const scriptPath = hostPath(
      job,
      words(job.entrypoint)
        .split(' ')
        .find((w) => w.endsWith('.sh')) ?? '',
    );
    const script = fs.readFileSync(scriptPath as string, 'utf8');
    expect(script).toMatch(/temporal operator namespace create [^\n]*--namespace "\$TEMPORAL_NAMESPACE"/);
    expect(script).toMatch(/--retention "\$RETENTION"/);
    expect(script).toContain('operator namespace describe');
    expect(env('temporal-namespace').TEMPORAL_NAMESPACE_RETENTION).toMatch(/^\d+[hd]$/);
    expect(env('temporal-namespace').TEMPORAL_NAMESPACE).toBe(env('api').TEMPORAL_NAMESPACE);
    expect(env('temporal-ui').TEMPORAL_DEFAULT_NAMESPACE).toBe(env('api').TEMPORAL_NAMESPACE);
  });

  it("wires the UI to the server and to Herald's public codec endpoint", () => {
    const ui = env('temporal-ui');
    expect(ui.TEMPORAL_ADDRESS).toBe(env('api').TEMPORAL_ADDRESS);
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toBe(`${env('api').HERALD_PUBLIC_URL}/codec`);
    expect(ui.TEMPORAL_CORS_ORIGINS).toBe(env('api').HERALD_CODEC_CORS_ORIGINS);
  });

  it('runs the API and the workers from one image with npm run api / npm run worker', () => {
    const api = service('api');
    const worker = service('worker');
    expect(api.image).toBe(worker.image);
    expect(api.build).toEqual(worker.build);
    expect(service('herald-migrate').image).toBe(api.image);
    expect(words(api.command)).toBe('npm run api');
    const dockerCmd = /^CMD\s+(.+)$/m.exec(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8'))?.[1] ?? '';
    expect(words(worker.command) || (JSON.parse(dockerCmd) as string[]).join(' ')).toBe('npm run worker');
    expect(worker.environment).toEqual(api.environment);
    expect(secretNames(worker).sort()).toEqual(secretNames(api).sort());
    const herald = env('api');
    const [temporalHost] = (herald.TEMPORAL_ADDRESS ?? '').split(':');
    expect(service(temporalHost ?? '').image).toMatch(/^temporalio\/server:/);
    expect(herald.TEMPORAL_NAMESPACE).toBeTruthy();
    expect(herald.HERALD_PUBLIC_URL).toMatch(/^https?:\/\//);
  });

  it('keeps the worker scalable: no fixed name, hostname or published port', () => {
    const worker = service('worker');
    expect(worker.container_name).toBeUndefined();
    expect(worker.hostname).toBeUndefined();
    expect(worker.ports ?? []).toEqual([]);
    expect(Number(worker.deploy?.replicas ?? 1)).toBeGreaterThanOrEqual(1);
  });

  it('passes every credential as a file under /run/secrets, never inline', () => {
    const declared = compose.secrets ?? {};
    for (const role of ['api', 'worker']) {
      for (const name of heraldSecretVariables) {
        expect({ role, name, inline: env(role)[name] }).toEqual({ role, name, inline: undefined });
        expect({ role, name, file: env(role)[`${name}_FILE`] }).toEqual({
          role,
          name,
          file: expect.stringMatching(/^\/run\/secrets\/./),
        });
      }
    }
    for (const [name, svc] of Object.entries(services)) {
      const mounted = secretNames(svc);
      for (const secret of mounted) {
        expect({ name, secret, declared: secret in declared }).toEqual({ name, secret, declared: true });
      }
      for (const [key, value] of Object.entries(svc.environment ?? {})) {
        expect({ name, key, value: /:\/\/[^/\s:@]+:[^@\s]+@/.test(value) ? 'url with password' : 'ok' }).toEqual({
          name,
          key,
          value: 'ok',
        });
        if (key.endsWith('_FILE') && looksSecret(key.slice(0, -5))) {
          const secret = /^\/run\/secrets\/([^/]+)$/.exec(value)?.[1] ?? `(${value} is not under /run/secrets)`;
          expect({ name, key, secret, mounted: mounted.includes(secret) }).toEqual({
            name,
            key,
            secret,
            mounted: true,
          });
        } else if (looksSecret(key) && !['', 'true', 'false'].includes(value)) {
          throw new Error(`${name}: ${key} is set inline; pass it as ${key}_FILE=/run/secrets/...`);
        }
      }
    }
    const gitignore = read('.gitignore');
    for (const [secret, definition] of Object.entries(declared)) {
      expect({ secret, file: definition.file }).toEqual({ secret, file: `./secrets/${secret}` });
    }
    expect(gitignore).toMatch(/^secrets\/$/m);
    expect(gitignore).toMatch(/^\.env$/m);
    const exampleKeys = Object.keys(exampleEnv).filter(looksSecret);
    expect(exampleKeys).toEqual([]);
  });

  it('gives the API and the workers every setting Herald reads, each secret as a mounted file', () => {
    const variables = configVariables();
    expect(variables.length).toBeGreaterThan(30);
    for (const role of ['api', 'worker']) {
      const wired = env(role);
      const missing = variables.filter(
        (name) => !(name in notForProduction) && !(name in wired) && !(`${name}_FILE` in wired),
      );
      expect({ role, missing }).toEqual({ role, missing: [] });
      for (const name of SECRET_VARIABLES) {
        expect({ role, name, file: wired[`${name}_FILE`] }).toEqual({
          role,
          name,
          file: expect.stringMatching(/^\/run\/secrets\/./),
        });
      }
    }
  });

  it('creates every secret file the compose file mounts, generating the tracking key', () => {
    const script = read('scripts/init-secrets.sh');
    const created = new Set(
      [...script.matchAll(/write_once (\w+)/g), ...script.matchAll(/for name in ([\w \\\n]+?); do/g)].flatMap((match) =>
        (match[1] as string).split(/[\s\\]+/).filter((word) => word && word !== '"$name"'),
      ),
    );
    for (const secret of Object.keys(compose.secrets ?? {})) {
      expect({ secret, created: created.has(secret) }).toEqual({ secret, created: true });
    }
    expect(script).toMatch(/write_once herald_tracking_secret "\$\(random_hex\)"/);
  });

  it('ships example delivery and layout files that Herald accepts as they are', () => {
    const mount = (role: string) =>
      (service(role).volumes ?? []).map((volume) =>
        typeof volume === 'string' ? volume : `${volume.source}:${volume.target}`,
      );
    for (const role of ['api', 'worker']) expect(mount(role)).toContain('./config:/etc/herald:ro');
    const config = path.join(deployDir, 'config');
    const delivery = loadDeliveryConfig({ HERALD_DELIVERY_CONFIG_FILE: path.join(config, 'delivery.example.json') });
    expect(delivery.channels.sms.failover).toBe('vonage');
    const tracking = loadConfig({ HERALD_EMAIL_LAYOUT_FILE: path.join(config, 'layout.example.html') }).tracking;
    expect(tracking.emailLayout).toContain('{{ content }}');
  });

  it('bind-mounts only files that exist', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const volume of svc.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : volume.source;
        if (!source || !/^\.{1,2}\//.test(source)) continue;
        expect({ name, source, exists: fs.existsSync(path.join(deployDir, source)) }).toEqual({
          name,
          source,
          exists: true,
        });
      }
    }
  });
});

describe('temporal-docker/prometheus.yml', () => {
  interface ScrapeConfig {
    job_name: string;
    metrics_path?: string;
    static_configs?: { targets: string[] }[];
    dns_sd_configs?: { names: string[]; type?: string; port?: number }[];
  }
  const prometheus = parse(read('prometheus.yml')) as { scrape_configs?: ScrapeConfig[] };
  const jobs = prometheus.scrape_configs ?? [];
  const targetsOf = (job: ScrapeConfig): string[] => [
    ...(job.static_configs ?? []).flatMap((config) => config.targets),
    ...(job.dns_sd_configs ?? []).flatMap((config) =>
      config.type === 'A' ? config.names.map((host) => `${host}:${config.port}`) : [],
    ),
  ];
  const scraping = (target: string): ScrapeConfig | undefined => jobs.find((job) => targetsOf(job).includes(target));

  it('scrapes /metrics on every API and worker replica', () => {
    for (const role of ['api', 'worker']) {
      const job = scraping(`${role}:${env(role).PORT}`);
      expect({ role, job: job?.job_name }).toEqual({ role, job: expect.any(String) });
      expect(job?.metrics_path ?? '/metrics').toBe('/metrics');
    }
    // A scaled service answers DNS with one address per replica; only DNS discovery sees all of them.
    expect(jobs.find((job) => job.dns_sd_configs?.some((config) => config.names.includes('worker')))).toBeDefined();
  });

  it("scrapes the Temporal server's metrics endpoint", () => {
    const port = /:(\d+)$/.exec(env('temporal').PROMETHEUS_ENDPOINT ?? '')?.[1];
    expect(port).toBeDefined();
    expect(scraping(`temporal:${port}`)).toBeDefined();
  });

  it('is the configuration the prometheus service loads', () => {
    const svc = service('prometheus');
    const configPath = /--config\.file=(\S+)/.exec(words(svc.command))?.[1] ?? '/etc/prometheus/prometheus.yml';
    expect(hostPath(svc, configPath)).toBe(path.join(deployDir, 'prometheus.yml'));
  });
});

describe('Dockerfile', () => {
  const dockerfile = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => /^[A-Z]+\s/.test(line));

  it('builds on node:20-bookworm-slim: npm ci, prisma generate, a prebuilt workflow bundle', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    const from = instructions.filter((line) => line.startsWith('FROM '));
    expect(from.length).toBeGreaterThanOrEqual(2);
    for (const line of from) expect(line).toMatch(/^FROM \$\{NODE_IMAGE\} AS \w+$/);
    const run = instructions.filter((line) => line.startsWith('RUN ')).join('\n');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toContain('npx prisma generate');
    expect(run).toContain('npx tsx scripts/bundle-workflows.ts');
    expect(run).toContain('dist/workflow-bundle.js');
  });

  it('runs as a non-root user with the worker as the default command', () => {
    const user = instructions.filter((line) => line.startsWith('USER ')).pop();
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|\s|$)/);
    const cmd = instructions.filter((line) => line.startsWith('CMD ')).pop() ?? '';
    expect(JSON.parse(cmd.slice(4)) as string[]).toEqual(['npm', 'run', 'worker']);
  });

  it('keeps dependencies, local data, git history and secrets out of the build context', () => {
    const ignored = fs
      .readFileSync(path.join(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim());
    for (const entry of ['node_modules', '.data', '.venv', '.git', 'dist', '.env', 'temporal-docker']) {
      expect(ignored).toContain(entry);
    }
  });
});
