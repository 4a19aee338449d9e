/** Reading claims whose shape the IdP, not our types, decides. */

export function stringClaim(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Only an explicit true counts; some IdPs (Cognito, older Google endpoints) send the string "true". */
export function trueClaim(value: unknown): boolean {
  return value === true || value === 'true';
}

export function stringListClaim(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
