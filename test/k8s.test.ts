/**
 * The Kubernetes manifests in deploy/k8s/: each object is valid against the Kubernetes API's JSON
 * schemas (kubernetes-models, generated from the API server's OpenAPI document), and the objects
 * fit together (selectors, names, ports, probes, configuration) and with the app.
 */
import { readdir, readFile } from 'node:fs/promises';
import t from 'tap';
import { parseAllDocuments } from 'yaml';

const folder = new URL('../deploy/k8s/', import.meta.url);

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [key: string]: any;
}

/** Every object of every manifest, by file. */
async function manifests(): Promise<Map<string, K8sObject[]>> {
  const files = (await readdir(folder)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  const byFile = new Map<string, K8sObject[]>();
  for (const file of files) {
    const docs = parseAllDocuments(await readFile(new URL(file, folder), 'utf8'));
    byFile.set(file, docs.map((d) => d.toJS() as K8sObject).filter(Boolean));
  }
  return byFile;
}

/** Validates an object with the kubernetes-models class of its apiVersion and kind; returns the errors (empty when valid). */
async function schemaErrors(object: K8sObject): Promise<string[]> {
  const module = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<string, new (data: unknown) => { validate(): void }>;
  const Model = module[object.kind];
  if (!Model) return [`no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const errors = (error as { errors?: { instancePath: string; message?: string }[] }).errors;
    return errors ? errors.map((e) => `${e.instancePath} ${e.message}`) : [String(error)];
  }
}

const byFile = await manifests();
const all = [...byFile.values()].flat();
const one = (kind: string, name?: string) => {
  const found = all.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0]!;
};
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}) => Object.entries(selector).every(([k, v]) => labels[k] === v);

t.test('every object in deploy/k8s is valid against the Kubernetes JSON schemas', async (t) => {
  t.ok(all.length >= 8);
  for (const [file, objects] of byFile) {
    for (const object of objects) t.same(await schemaErrors(object), [], `${file}: ${object.kind} ${object.metadata?.name}`);
  }
});

t.test('the schemas reject what the API server rejects', async (t) => {
  const deployment = structuredClone(one('Deployment', 'library'));
  deployment['spec'].replicas = 'two';
  deployment['spec'].template.spec.containers[0].livenessProbe.httpGet.port = { name: 'http' };
  const errors = await schemaErrors(deployment);
  t.ok(errors.some((e) => e.startsWith('/spec/replicas ')), 'replicas must be an integer');
  t.ok(errors.some((e) => e.startsWith('/spec/template/spec/containers/0/livenessProbe/httpGet/port')), 'a port is a number or a name');
  const hpa = structuredClone(one('HorizontalPodAutoscaler'));
  delete hpa['spec'].maxReplicas;
  t.ok((await schemaErrors(hpa)).some((e) => /maxReplicas/.test(e)), 'maxReplicas is required');
});

t.test('kustomization.yaml lists every manifest', async (t) => {
  const [kustomization] = parseAllDocuments(await readFile(new URL('kustomization.yaml', folder), 'utf8')).map((d) => d.toJS());
  t.same([...kustomization.resources].sort(), [...byFile.keys()].sort());
});

t.test('the Deployment: probes, resources, configuration, a graceful stop', async (t) => {
  const deployment = one('Deployment', 'library');
  const pod = deployment['spec'].template.spec;
  const [container] = pod.containers;
  const port = container.ports.find((p: { name: string }) => p.name === 'http');
  t.equal(port.containerPort, 3000);
  t.equal(container.env.find((e: { name: string }) => e.name === 'PORT').value, String(port.containerPort), 'the app listens where the probes ask');
  t.equal(container.env.find((e: { name: string }) => e.name === 'HOST').value, '0.0.0.0');
  t.same(container.livenessProbe.httpGet, { path: '/health', port: 'http' }, 'liveness: /health');
  t.same(container.readinessProbe.httpGet, { path: '/ready', port: 'http' }, 'readiness: /ready (the database answers)');
  t.ok(container.startupProbe.periodSeconds * container.startupProbe.failureThreshold >= 120, 'the start may wait about two minutes for the database');
  t.same(container.resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } }, 'sized from the measured footprint');
  t.same(
    container.envFrom.map((e: Record<string, { name: string }>) => Object.values(e)[0]!.name),
    [one('ConfigMap').metadata.name, one('Secret').metadata.name],
  );
  t.ok(pod.terminationGracePeriodSeconds > 10 + Number(container.lifecycle.preStop.exec.command[1]), 'the 10 s the app takes to close, after the preStop pause');
  t.equal(pod.securityContext.runAsUser, 1000, "the image's node user");
  t.equal(deployment['spec'].strategy.rollingUpdate.maxUnavailable, 0, 'a rollout never goes below the replicas serving');
  t.equal(container.image, one('Job').spec.template.spec.containers[0].image, 'the migration runs the same image');
});

t.test('the migration Job runs the one-shot migrate with the same configuration, and the replicas do not migrate', async (t) => {
  const job = one('Job', 'library-migrate');
  const [container] = job['spec'].template.spec.containers;
  t.same(container.command, ['node', 'src/library/cli.ts', 'migrate']);
  t.same(container.envFrom, one('Deployment', 'library')['spec'].template.spec.containers[0].envFrom);
  t.equal(job['spec'].template.spec.restartPolicy, 'Never');
  t.equal(one('ConfigMap').data.MIGRATE_ON_START, 'false');
});

t.test('the Service, the autoscaler and the disruption budget find the web pods and only them', async (t) => {
  const deployment = one('Deployment', 'library');
  const labels = deployment['spec'].template.metadata.labels;
  t.same(deployment['spec'].selector.matchLabels, labels);
  const service = one('Service', 'library');
  t.ok(matches(service['spec'].selector, labels), 'the Service selects the web pods');
  t.notOk(matches(service['spec'].selector, one('Job')['spec'].template.metadata.labels), 'but not the migration pod');
  t.equal(service['spec'].ports[0].targetPort, 'http');
  const hpa = one('HorizontalPodAutoscaler');
  t.same(hpa['spec'].scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'library' });
  t.ok(hpa['spec'].minReplicas >= 2 && hpa['spec'].maxReplicas > hpa['spec'].minReplicas);
  t.equal(hpa['spec'].metrics[0].resource.name, 'cpu', 'CPU utilization, against the CPU request the container sets');
  const pdb = one('PodDisruptionBudget');
  t.same(pdb['spec'].selector.matchLabels, labels);
  t.ok(pdb['spec'].minAvailable < hpa['spec'].minReplicas, 'a drain can always evict one pod');
});

t.test('the configuration holds documented variables only, and the secrets are in the Secret', async (t) => {
  const documented = new Set([...(await readFile(new URL('../docs/deploy.md', import.meta.url), 'utf8')).matchAll(/^\| `([A-Z_]+)`/gm)].map((m) => m[1]));
  const config = one('ConfigMap').data as Record<string, string>;
  const secret = one('Secret').stringData as Record<string, string>;
  for (const key of Object.keys({ ...config, ...secret })) t.ok(key === 'NODE_OPTIONS' || documented.has(key), `${key} is in docs/deploy.md`);
  t.same(Object.keys(secret).sort(), ['DATABASE_URL', 'SECRET_KEY']);
  t.ok(secret['SECRET_KEY']!.length >= 32, 'a placeholder the app accepts (32+ characters), to be replaced');
  t.equal(new URL(config['REDIS_URL']!).hostname, one('Service', 'library-redis').metadata.name, 'Redis by its Service name');
});
