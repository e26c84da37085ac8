/**
 * What a provider's snapshot ids look like, so a panel record naming something else (a host
 * bug, another plugin firing the backup-tab hook) is refused at the API with a sentence
 * instead of being followed — or, later, deleted. Intermediate ids (DigitalOcean's action id)
 * have the same shape as its snapshot ids: both are integers.
 */
const INTEGER = /^[1-9]\d{0,18}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const FORMATS: Readonly<Record<string, { pattern: RegExp; example: string }>> = {
  hetzner: { pattern: INTEGER, example: '123456789' }, // image id
  digitalocean: { pattern: INTEGER, example: '123456789' }, // snapshot (image) id or action id
  linode: { pattern: INTEGER, example: '123456' }, // backup id
  vultr: { pattern: UUID, example: 'cb676a46-66fd-4dfb-b839-443f2e6c0b60' }, // snapshot id
  openstack: { pattern: UUID, example: '70a599e0-31e7-49b7-b260-868f441e862b' }, // Glance image id
  awsec2: { pattern: /^ami-[0-9a-f]{8}(?:[0-9a-f]{9})?$/, example: 'ami-0123456789abcdef0' }, // AMI id
};

/** Null when `id` looks like one of `providerType`'s snapshot ids (or the type has no known shape). */
export function idFormatProblem(providerType: string, providerName: string, id: string): string | null {
  const f = FORMATS[providerType];
  if (!f || f.pattern.test(id)) return null;
  return `"${id.slice(0, 60)}" is not a ${providerName} snapshot id (they look like ${f.example}); nothing was recorded.`;
}
