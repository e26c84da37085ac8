/**
 * A local stand-in for the EC2 Query API (Version 2016-11-15), shaped after docs/providers.md and
 * the EC2 API reference, not after what our adapter sends.
 *
 * POST / with a form-encoded body (`Action=…&Version=…&Name.N=…`), XML answers in the
 * `http://ec2.amazonaws.com/doc/2016-11-15/` namespace, errors as
 * `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.
 * It does not verify SigV4 signatures but requires an `Authorization: AWS4-HMAC-SHA256
 * Credential=<key id>/…` header and refuses an unknown key id with `AuthFailure`.
 *
 * Test controls: `inject()` queues N failures of a kind (optionally for one action),
 * `pendingPolls` keeps a new image `pending` for K DescribeImages answers (poll-counted, not
 * time-based), `requests` records every call, `images()` / `snapshots()` list what is stored.
 *
 * Eventual consistency (docs/providers.md): for `invisibleForMs` after CreateImage (by `now`),
 * DescribeImages answers `InvalidAMIID.NotFound` for the new image when asked by id and leaves
 * it out of filtered lists, as EC2 does. A `disabled` image is listed only with IncludeDisabled.
 */
import type http from 'node:http';
import { startFakeHttpServer, type FakeHttpServer, type FakeRequest } from './base.js';

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const OWNER_ID = '123456789012';

export type Ec2FaultKind =
  | '5xx' // 500 InternalError
  | 'throttle' // 503 RequestLimitExceeded
  | 'malformed' // 200 with a body that is not XML
  | 'hang' // never answers
  | 'reset-after' // performs the action, then drops the connection without answering
  | 'error'; // any EC2 error: give status, code, message

export interface Ec2Fault {
  kind: Ec2FaultKind;
  /** Only requests with this Action consume the fault (default: any). */
  action?: string;
  status?: number;
  code?: string;
  message?: string;
}

export interface FakeImage {
  imageId: string;
  name: string;
  description: string;
  instanceId: string;
  state: 'pending' | 'available' | 'failed' | 'deregistered' | 'disabled';
  /** `now()` at CreateImage. */
  createdAt: number;
  stateReason: { code: string; message: string } | null;
  tags: Record<string, string>;
  snapshotIds: string[];
  noReboot: boolean;
  /** DescribeImages answers left that still show `pending`. */
  pendingPollsLeft: number;
  /** When set, the image ends `failed` with this message instead of `available`. */
  failWith: string | null;
}

export interface FakeEbsSnapshot {
  snapshotId: string;
  volumeId: string;
  description: string;
  tags: Record<string, string>;
}

export interface Ec2Request {
  action: string;
  params: URLSearchParams;
  authorization: string | undefined;
  securityToken: string | undefined;
}

export interface FakeEc2Options {
  accessKeyId?: string;
  /** How DeregisterImage treats DeleteAssociatedSnapshots=true. */
  deleteAssociatedSnapshots?: 'supported' | 'unknown-parameter' | 'ignored';
  /** Page size for DescribeImages when the caller gives no MaxResults. */
  pageSize?: number;
  /** Milliseconds after CreateImage during which DescribeImages does not show the new image. */
  invisibleForMs?: number;
  /** The fake's clock (default Date.now); engine tests tie it to the engine's clock. */
  now?: () => number;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function hex(n: number, width = 17): string {
  return n.toString(16).padStart(width, '0');
}

class Ec2Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** `Prefix.1`, `Prefix.2`, … in order. */
function listParam(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 1; params.has(`${prefix}.${i}`); i++) out.push(params.get(`${prefix}.${i}`) ?? '');
  return out;
}

function filtersOf(params: URLSearchParams): { name: string; values: string[] }[] {
  const out: { name: string; values: string[] }[] = [];
  for (let i = 1; params.has(`Filter.${i}.Name`); i++) {
    out.push({ name: params.get(`Filter.${i}.Name`) ?? '', values: listParam(params, `Filter.${i}.Value`) });
  }
  return out;
}

function tagsOf(params: URLSearchParams, resourceType: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (let i = 1; params.has(`TagSpecification.${i}.ResourceType`); i++) {
    if (params.get(`TagSpecification.${i}.ResourceType`) !== resourceType) continue;
    for (let j = 1; params.has(`TagSpecification.${i}.Tag.${j}.Key`); j++) {
      tags[params.get(`TagSpecification.${i}.Tag.${j}.Key`) ?? ''] = params.get(`TagSpecification.${i}.Tag.${j}.Value`) ?? '';
    }
  }
  return tags;
}

function matchesTagFilters(tags: Record<string, string>, filters: { name: string; values: string[] }[]): boolean {
  for (const f of filters) {
    if (f.name.startsWith('tag:')) {
      const v = tags[f.name.slice(4)];
      if (v === undefined || !f.values.includes(v)) return false;
    } else if (f.name === 'tag-key') {
      if (!f.values.some((k) => k in tags)) return false;
    }
  }
  return true;
}

function tagSetXml(tags: Record<string, string>): string {
  const items = Object.entries(tags).map(([k, v]) => `<item><key>${esc(k)}</key><value>${esc(v)}</value></item>`);
  return items.length ? `<tagSet>${items.join('')}</tagSet>` : '';
}

export class FakeEc2 {
  readonly requests: Ec2Request[] = [];
  /** DescribeImages answers a new image stays `pending` for. */
  pendingPolls = 0;
  /** Volumes per instance made by `addInstance` unless told otherwise. */
  readonly instances = new Map<string, { volumes: number }>();
  /** Per-snapshot return codes DeregisterImage reports instead of `success` (snapshot is then kept). */
  readonly associatedSnapshotFailures = new Map<string, 'missing-permissions' | 'internal-error' | 'client-error'>();
  /** Actions answered with UnauthorizedOperation. */
  readonly unauthorizedActions = new Set<string>();
  deleteAssociatedSnapshots: 'supported' | 'unknown-parameter' | 'ignored';
  /** AWS shows a deregistered image (state `deregistered`) for a while: keep it visible. */
  keepDeregistered = false;
  pageSize: number;
  accessKeyId: string;
  invisibleForMs: number;
  now: () => number;

  private readonly faults: Ec2Fault[] = [];
  private readonly imageMap = new Map<string, FakeImage>();
  private readonly snapshotMap = new Map<string, FakeEbsSnapshot>();
  private seq = 0x1000;
  private server: FakeHttpServer | null = null;
  private nextFailure: string | null = null;

  constructor(opts: FakeEc2Options = {}) {
    this.accessKeyId = opts.accessKeyId ?? 'AKIAFAKEFAKEFAKE0001';
    this.deleteAssociatedSnapshots = opts.deleteAssociatedSnapshots ?? 'supported';
    this.pageSize = opts.pageSize ?? 1000;
    this.invisibleForMs = opts.invisibleForMs ?? 0;
    this.now = opts.now ?? Date.now;
  }

  get url(): string {
    if (!this.server) throw new Error('fake EC2 not started');
    return this.server.url;
  }

  async start(): Promise<this> {
    this.server = await startFakeHttpServer((r, res) => this.handle(r, res));
    return this;
  }

  async close(): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    await srv.close();
    this.server = null;
  }

  addInstance(instanceId: string, volumes = 1): void {
    this.instances.set(instanceId, { volumes });
  }

  /** The next `times` requests (with that Action, if given) fail as described. */
  inject(times: number, fault: Ec2Fault): void {
    for (let i = 0; i < times; i++) this.faults.push({ ...fault });
  }

  /** The next image created ends `failed` with this message (after its pending polls). */
  failNextImage(message: string): void {
    this.nextFailure = message;
  }

  count(action?: string): number {
    return action ? this.requests.filter((r) => r.action === action).length : this.requests.length;
  }

  images(): FakeImage[] {
    return [...this.imageMap.values()];
  }

  snapshots(): FakeEbsSnapshot[] {
    return [...this.snapshotMap.values()];
  }

  /** Put an image there directly (someone else's, or one left by a previous run). */
  putImage(img: Partial<FakeImage> & { name: string; instanceId: string }): FakeImage {
    const pendingFailure = this.nextFailure;
    this.nextFailure = null;
    const image = this.makeImage(img.instanceId, img.name, img.tags ?? {}, img.tags ?? {});
    image.createdAt = -Infinity; // put there long ago: visible at once
    this.nextFailure = pendingFailure;
    Object.assign(image, img, { imageId: image.imageId, snapshotIds: image.snapshotIds });
    return image;
  }

  private makeImage(instanceId: string, name: string, imageTags: Record<string, string>, snapTags: Record<string, string>): FakeImage {
    const imageId = `ami-${hex(++this.seq)}`;
    const volumes = this.instances.get(instanceId)?.volumes ?? 1;
    const snapshotIds: string[] = [];
    for (let v = 0; v < volumes; v++) {
      const snapshotId = `snap-${hex(++this.seq)}`;
      snapshotIds.push(snapshotId);
      this.snapshotMap.set(snapshotId, {
        snapshotId,
        volumeId: `vol-${hex(++this.seq)}`,
        description: `Created by CreateImage(${instanceId}) for ${imageId}`,
        tags: { ...snapTags },
      });
    }
    const image: FakeImage = {
      imageId, name, description: '', instanceId, state: 'pending', createdAt: this.now(), stateReason: null, tags: { ...imageTags },
      snapshotIds, noReboot: false, pendingPollsLeft: this.pendingPolls, failWith: this.nextFailure,
    };
    this.nextFailure = null;
    this.imageMap.set(imageId, image);
    return image;
  }

  private handle(r: FakeRequest, res: http.ServerResponse): void {
    const { req } = r;
    const params = new URLSearchParams(r.raw);
    const action = params.get('Action') ?? '';
    const authorization = req.headers.authorization;
    const token = req.headers['x-amz-security-token'];
    this.requests.push({ action, params, authorization, securityToken: Array.isArray(token) ? token[0] : token });
    const requestId = `req-${this.requests.length}`;

    const fi = this.faults.findIndex((f) => !f.action || f.action === action);
    const fault = fi >= 0 ? this.faults.splice(fi, 1)[0] : undefined;
    if (fault?.kind === 'hang') return this.server?.hang(res); // never answer; the client must time out
    if (fault?.kind === '5xx') return this.sendError(res, requestId, new Ec2Error(500, 'InternalError', 'An internal error has occurred'));
    if (fault?.kind === 'throttle') return this.sendError(res, requestId, new Ec2Error(503, 'RequestLimitExceeded', 'Request limit exceeded.'));
    if (fault?.kind === 'error') {
      return this.sendError(res, requestId, new Ec2Error(fault.status ?? 400, fault.code ?? 'InvalidParameterValue', fault.message ?? 'Invalid value.'));
    }
    if (fault?.kind === 'malformed') {
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end('<html><body>502 Bad Gateway</body');
      return;
    }

    try {
      const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\//.exec(authorization ?? '');
      if (!authorization) throw new Ec2Error(401, 'MissingAuthenticationToken', 'Request is missing Authentication Token');
      if (!m || m[1] !== this.accessKeyId) throw new Ec2Error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
      if (params.get('Version') !== '2016-11-15') throw new Ec2Error(400, 'InvalidParameterValue', 'Unsupported Version');
      if (this.unauthorizedActions.has(action)) {
        throw new Ec2Error(403, 'UnauthorizedOperation', 'You are not authorized to perform this operation. Encoded authorization failure message: Zm9v');
      }
      const body = this.dispatch(action, params, requestId);
      if (fault?.kind === 'reset-after') {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
    } catch (err) {
      if (err instanceof Ec2Error) return this.sendError(res, requestId, err);
      return this.sendError(res, requestId, new Ec2Error(500, 'InternalError', String(err)));
    }
  }

  private sendError(res: http.ServerResponse, requestId: string, err: Ec2Error): void {
    res.writeHead(err.status, { 'content-type': 'text/xml;charset=UTF-8' });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
    );
  }

  private wrap(action: string, requestId: string, inner: string): string {
    return `<${action}Response xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`;
  }

  private dispatch(action: string, p: URLSearchParams, requestId: string): string {
    switch (action) {
      case 'CreateImage':
        return this.wrap(action, requestId, `<imageId>${this.createImage(p).imageId}</imageId>`);
      case 'DescribeImages':
        return this.wrap(action, requestId, this.describeImages(p));
      case 'DeregisterImage':
        return this.wrap(action, requestId, this.deregisterImage(p));
      case 'DeleteSnapshot':
        this.deleteSnapshot(p.get('SnapshotId') ?? '');
        return this.wrap(action, requestId, '<return>true</return>');
      case 'DescribeSnapshots':
        return this.wrap(action, requestId, this.describeSnapshots(p));
      default:
        throw new Ec2Error(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  private createImage(p: URLSearchParams): FakeImage {
    const instanceId = p.get('InstanceId') ?? '';
    const name = p.get('Name') ?? '';
    if (!this.instances.has(instanceId)) throw new Ec2Error(400, 'InvalidInstanceID.NotFound', `The instance ID '${instanceId}' does not exist`);
    if (name.length < 3 || name.length > 128) throw new Ec2Error(400, 'InvalidAMIName.Malformed', 'AMI names must be between 3 and 128 characters long');
    for (const img of this.imageMap.values()) {
      if (img.name === name && img.state !== 'deregistered') {
        throw new Ec2Error(400, 'InvalidAMIName.Duplicate', `AMI name ${name} is already in use by AMI ${img.imageId}`);
      }
    }
    const image = this.makeImage(instanceId, name, tagsOf(p, 'image'), tagsOf(p, 'snapshot'));
    image.description = p.get('Description') ?? '';
    image.noReboot = p.get('NoReboot') === 'true';
    return image;
  }

  /** Each answer that shows a pending image counts as one poll of it. */
  private advance(img: FakeImage): void {
    if (img.state !== 'pending') return;
    if (img.pendingPollsLeft > 0) {
      img.pendingPollsLeft--;
      return;
    }
    if (img.failWith) {
      img.state = 'failed';
      img.stateReason = { code: 'Client.InternalError', message: img.failWith };
    } else {
      img.state = 'available';
    }
  }

  private imageXml(img: FakeImage): string {
    const bdm = img.snapshotIds
      .map((s, i) => `<item><deviceName>/dev/${i === 0 ? 'xvda' : `xvd${String.fromCharCode(98 + i)}`}</deviceName><ebs><snapshotId>${s}</snapshotId><volumeSize>8</volumeSize><deleteOnTermination>true</deleteOnTermination><volumeType>gp3</volumeType><encrypted>false</encrypted></ebs></item>`)
      .join('');
    const reason = img.stateReason ? `<stateReason><code>${esc(img.stateReason.code)}</code><message>${esc(img.stateReason.message)}</message></stateReason>` : '';
    return `<item><imageId>${img.imageId}</imageId><imageLocation>${OWNER_ID}/${esc(img.name)}</imageLocation><imageState>${img.state}</imageState><imageOwnerId>${OWNER_ID}</imageOwnerId><creationDate>2026-01-01T00:00:00.000Z</creationDate><isPublic>false</isPublic><architecture>x86_64</architecture><imageType>machine</imageType><sourceInstanceId>${img.instanceId}</sourceInstanceId><name>${esc(img.name)}</name><description>${esc(img.description)}</description><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName><blockDeviceMapping>${bdm}</blockDeviceMapping><virtualizationType>hvm</virtualizationType>${tagSetXml(img.tags)}${reason}<hypervisor>xen</hypervisor></item>`;
  }

  private describeImages(p: URLSearchParams): string {
    const ids = listParam(p, 'ImageId');
    const owners = listParam(p, 'Owner');
    const filters = filtersOf(p);
    // EC2 refuses too many filter values (FilterLimitExceeded); 200 per filter is the limit the adapter keeps.
    if (filters.some((f) => f.values.length > 200)) throw new Ec2Error(400, 'FilterLimitExceeded', 'The maximum number of filter values specified on a single call is 200');
    if (p.has('MaxResults') && !(Number(p.get('MaxResults')) >= 1 && Number(p.get('MaxResults')) <= 1000)) throw new Ec2Error(400, 'InvalidParameterValue', 'MaxResults must be between 1 and 1000');
    const includeDisabled = p.get('IncludeDisabled') === 'true';
    const visible = (img: FakeImage): boolean => this.now() - img.createdAt >= this.invisibleForMs && (includeDisabled || img.state !== 'disabled');
    let found: FakeImage[];
    if (ids.length) {
      found = ids.map((id) => {
        if (!/^ami-[0-9a-f]+$/.test(id)) throw new Ec2Error(400, 'InvalidAMIID.Malformed', `Invalid id: "${id}"`);
        const img = this.imageMap.get(id);
        if (!img || !visible(img)) throw new Ec2Error(400, 'InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
        return img;
      });
    } else {
      found = [...this.imageMap.values()].filter(visible);
    }
    if (owners.length && !owners.some((o) => o === 'self' || o === OWNER_ID)) found = [];
    for (const f of filters) {
      if (f.name === 'name') found = found.filter((i) => f.values.includes(i.name));
      else if (f.name === 'image-id') found = found.filter((i) => f.values.includes(i.imageId));
      else if (f.name === 'state') found = found.filter((i) => f.values.includes(i.state));
    }
    found = found.filter((i) => matchesTagFilters(i.tags, filters));
    // AWS: MaxResults cannot be combined with ImageIds, and pages hold at most 1000 images.
    if (ids.length && p.has('MaxResults')) throw new Ec2Error(400, 'InvalidParameterCombination', 'The parameter ImageIds cannot be used with the parameter MaxResults');
    const max = Math.min(Number(p.get('MaxResults') ?? this.pageSize), this.pageSize);
    const start = Number(p.get('NextToken') ?? 0);
    const page = found.slice(start, start + max);
    for (const img of page) this.advance(img);
    const next = start + max < found.length ? `<nextToken>${start + max}</nextToken>` : '';
    return `<imagesSet>${page.map((i) => this.imageXml(i)).join('')}</imagesSet>${next}`;
  }

  private deregisterImage(p: URLSearchParams): string {
    const imageId = p.get('ImageId') ?? '';
    const img = this.imageMap.get(imageId);
    if (!img) throw new Ec2Error(400, 'InvalidAMIID.NotFound', `The image id '[${imageId}]' does not exist`);
    if (img.state === 'deregistered') throw new Ec2Error(400, 'InvalidAMIID.Unavailable', `The image '${imageId}' is no longer available`);
    const withSnapshots = p.get('DeleteAssociatedSnapshots') === 'true';
    if (withSnapshots && this.deleteAssociatedSnapshots === 'unknown-parameter') {
      throw new Ec2Error(400, 'UnknownParameter', 'The parameter DeleteAssociatedSnapshots is not recognized');
    }
    if (this.keepDeregistered) img.state = 'deregistered';
    else this.imageMap.delete(imageId);
    if (!withSnapshots || this.deleteAssociatedSnapshots === 'ignored') return '<return>true</return>';
    const items = img.snapshotIds.map((snapshotId) => {
      const usedElsewhere = [...this.imageMap.values()].some((o) => o !== img && o.state !== 'deregistered' && o.snapshotIds.includes(snapshotId));
      const injected = this.associatedSnapshotFailures.get(snapshotId);
      const code = usedElsewhere ? 'skipped' : injected ?? 'success';
      if (code === 'success') this.snapshotMap.delete(snapshotId);
      return `<item><snapshotId>${snapshotId}</snapshotId><returnCode>${code}</returnCode></item>`;
    });
    return `<return>true</return><deleteSnapshotResultSet>${items.join('')}</deleteSnapshotResultSet>`;
  }

  private deleteSnapshot(snapshotId: string): void {
    if (!this.snapshotMap.has(snapshotId)) throw new Ec2Error(400, 'InvalidSnapshot.NotFound', `The snapshot '${snapshotId}' does not exist.`);
    const user = [...this.imageMap.values()].find((i) => i.state !== 'deregistered' && i.snapshotIds.includes(snapshotId));
    if (user) throw new Ec2Error(400, 'InvalidSnapshot.InUse', `The snapshot ${snapshotId} is currently in use by ${user.imageId}`);
    this.snapshotMap.delete(snapshotId);
  }

  private describeSnapshots(p: URLSearchParams): string {
    const ids = listParam(p, 'SnapshotId');
    const filters = filtersOf(p);
    let found = ids.length
      ? ids.map((id) => {
          const s = this.snapshotMap.get(id);
          if (!s) throw new Ec2Error(400, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
          return s;
        })
      : [...this.snapshotMap.values()];
    found = found.filter((s) => matchesTagFilters(s.tags, filters));
    const items = found.map(
      (s) => `<item><snapshotId>${s.snapshotId}</snapshotId><volumeId>${s.volumeId}</volumeId><status>completed</status><startTime>2026-01-01T00:00:00.000Z</startTime><progress>100%</progress><ownerId>${OWNER_ID}</ownerId><volumeSize>8</volumeSize><description>${esc(s.description)}</description><encrypted>false</encrypted>${tagSetXml(s.tags)}</item>`,
    );
    return `<snapshotSet>${items.join('')}</snapshotSet>`;
  }
}

export async function startFakeEc2(opts: FakeEc2Options = {}): Promise<FakeEc2> {
  return new FakeEc2(opts).start();
}
