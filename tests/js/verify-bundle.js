// Independent check of a Sigstore bundle with sigstore-js (@sigstore/verify), offline,
// trusting only the given public key (no transparency log, no certificate authority).
//
//   node verify-bundle.js BUNDLE PUBLIC_KEY_PEM [ARTIFACT]
//
// Prints "Verified OK" and exits 0, or prints the verifier's error and exits 1.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [bundlePath, keyPath, artifactPath] = process.argv.slice(2);
if (!bundlePath || !keyPath) {
  console.error('usage: node verify-bundle.js BUNDLE PUBLIC_KEY_PEM [ARTIFACT]');
  process.exit(2);
}
try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const publicKey = crypto.createPublicKey(fs.readFileSync(keyPath));
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
  };
  const trust = toTrustMaterial(trustedRoot, () => ({ publicKey, validFor: () => true }));
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
  const artifact = artifactPath ? fs.readFileSync(artifactPath) : undefined;
  verifier.verify(toSignedEntity(bundle, artifact));
  console.log('Verified OK');
} catch (err) {
  console.log(`${err.code || err.name}: ${err.message}`);
  process.exit(1);
}
