import type { DossierView } from '../domain/dossier';
import type { Applicant } from '../domain/types';
import type { Principal } from './auth';

const keepLast = (s: string, n: number) => (s.length <= n ? '*'.repeat(s.length) : '*'.repeat(s.length - n) + s.slice(-n));

/** "Nguyễn Văn Hoàn" → "Nguyễn V. H.": enough for a manager to talk about it, not to identify. */
function maskName(name: string): string {
  const [family, ...rest] = name.trim().split(/\s+/);
  return [family, ...rest.map((p) => `${p[0]}.`)].join(' ');
}

export function maskApplicant(a: Applicant): Applicant {
  return {
    fullName: maskName(a.fullName),
    idNumber: keepLast(a.idNumber, 3),
    phone: keepLast(a.phone, 3),
    ...(a.email ? { email: `${a.email[0]}***@${a.email.split('@')[1] ?? ''}` } : {}),
  };
}

/** Personal data in full only for the portal, admins, clerks and the courier assigned to the dossier. */
export function viewFor(principal: Principal, view: DossierView): DossierView {
  const full =
    principal.role === 'portal' ||
    principal.role === 'admin' ||
    principal.role === 'clerk' ||
    (principal.role === 'courier' && view.courierIds.includes(principal.courierId));
  if (full) return view;
  return {
    ...view,
    applicant: maskApplicant(view.applicant),
    attempts: view.attempts.map((a) => (a.recipient ? { ...a, recipient: { ...a.recipient, idNumber: keepLast(a.recipient.idNumber, 3) } } : a)),
  };
}

/** Who may read a dossier at all; others get 404 so codes cannot be probed. */
export function canSee(principal: Principal, doc: { agencyId: string; courierIds: string[] }): boolean {
  if (principal.role === 'agency') return principal.agencyId === doc.agencyId;
  if (principal.role === 'courier') return doc.courierIds.includes(principal.courierId);
  return true;
}
