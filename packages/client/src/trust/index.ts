export { GpgKeyring, type GpgKeyInput, type GpgKeyInfo } from './GpgKeyring.js';
export { verifyGpgSignatures } from './verifyGpgSignatures.js';
export type { GpgSignatureInfo, RemoteVerification, SignatureCheck, SignatureStatus, SignatureVerdict } from './SignatureCheck.js';
export { requireGoodSignature } from './requireGoodSignature.js';
