/** The providers-file entry of an AWS EC2 account (`"type": "awsec2"`), checked strictly. */
import { z } from 'zod';

export const awsec2ConfigSchema = z.object({
  type: z.literal('awsec2'),
  accessKeyId: z.string().min(1, 'accessKeyId is required'),
  secretAccessKey: z.string().min(1, 'secretAccessKey is required'),
  sessionToken: z.string().min(1).optional(),
  /** For servers whose panel record has no region (WPCD's servers each carry their own). */
  region: z.string().regex(/^[a-z0-9-]+$/, 'region must look like us-east-1').optional(),
  /** Replaces `https://ec2.{region}.amazonaws.com` (private clouds, tests). */
  apiUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** Attempts per API call, first try included, before the engine's own backoff takes over. */
  maxAttempts: z.number().int().min(1).max(10).default(4),
  /** First backoff step and cap for throttling / transient retries inside one call. */
  backoffBaseMs: z.number().int().min(1).default(1_000),
  backoffCapMs: z.number().int().min(1).default(20_000),
  /** Whole request timeout (connect + response). */
  requestTimeoutMs: z.number().int().min(50).default(30_000),
  /**
   * EC2 is eventually consistent: for a while after CreateImage, DescribeImages may answer
   * InvalidAMIID.NotFound for the new image (the SDK's own waitUntilImageExists retries on
   * exactly that). Within this window after our create, NotFound means "not visible yet".
   */
  visibilityGraceMs: z.number().int().min(0).default(10 * 60_000),
}).strict();

export type Awsec2Config = z.input<typeof awsec2ConfigSchema>;
