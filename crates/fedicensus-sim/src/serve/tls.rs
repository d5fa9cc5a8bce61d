//! Certificates for every virtual server, issued on the fly from the name a client asks for.
//!
//! A real crawl checks certificates against the system's roots; a simulated crawl checks them
//! against one local CA generated at start, whose PEM ([`Certificates::ca_pem`]) the crawler is
//! told to trust. Nothing else about TLS differs, so the crawler's certificate checks run for
//! real: servers whose failure is [`Failure::BadTls`] present a certificate from a second CA that
//! nobody is told about, and the client must refuse it.
//!
//! Issuing must stay cheap for a 30,000-server crawl: every leaf certificate carries the same key
//! (generated once), so issuing one costs a single CA signature, and issued certificates are
//! cached per name. A name the world does not know (and that is not the control host) gets no
//! certificate at all: the handshake fails, as it would against a host that is not configured for
//! that name.

use super::error::{Error, Result};
use super::CONTROL_HOST;
use crate::failure::Failure;
use crate::world::World;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::{CertifiedKey, SigningKey};
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Issued certificates kept at most; beyond it the cache starts over (a full-size crawl of the
/// largest world stays well under it).
const CACHE_LIMIT: usize = 250_000;

/// A certificate authority: its parameters, its key and its own certificate.
struct Authority {
    params: CertificateParams,
    key: KeyPair,
    cert: CertificateDer<'static>,
    pem: String,
}

impl Authority {
    fn generate(common_name: &str) -> Result<Authority> {
        let cert_err = |source| Error::Certificate { name: None, source };
        let key = KeyPair::generate().map_err(cert_err)?;
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, common_name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "fedicensus simulator");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).map_err(cert_err)?;
        Ok(Authority {
            pem: cert.pem(),
            cert: cert.der().clone(),
            params,
            key,
        })
    }
}

/// The simulator's certificate authorities, the shared leaf key and the cache of issued
/// certificates. Also the rustls certificate resolver.
pub struct Certificates {
    world: Arc<World>,
    trusted: Authority,
    untrusted: Authority,
    leaf_key: KeyPair,
    signing_key: Arc<dyn SigningKey>,
    serial: AtomicU64,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates")
            .field("issued", &self.issued())
            .finish_non_exhaustive()
    }
}

impl Certificates {
    /// Generates the trusted CA, the untrusted CA and the shared leaf key for `world`.
    pub fn generate(world: Arc<World>) -> Result<Certificates> {
        let trusted = Authority::generate("fedicensus simulator CA")?;
        let untrusted = Authority::generate("Untrusted simulator CA (bad-tls servers)")?;
        let leaf_key =
            KeyPair::generate().map_err(|source| Error::Certificate { name: None, source })?;
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
        let signing_key = rustls::crypto::ring::sign::any_supported_type(&der)?;
        Ok(Certificates {
            world,
            trusted,
            untrusted,
            leaf_key,
            signing_key,
            serial: AtomicU64::new(1),
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The trusted CA's certificate, PEM-encoded: what a crawler of the simulator must trust.
    pub fn ca_pem(&self) -> &str {
        &self.trusted.pem
    }

    /// The trusted CA's certificate, DER-encoded.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.trusted.cert
    }

    /// How many certificates are in the cache.
    pub fn issued(&self) -> usize {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether `name` (lowercase) gets a certificate, and from which CA (`true`: the untrusted
    /// one).
    fn policy(&self, name: &str) -> Option<bool> {
        if name == CONTROL_HOST {
            return Some(false);
        }
        let server = self.world.lookup(name)?;
        Some(server.failure == Some(Failure::BadTls))
    }

    /// The certificate chain and key `name` presents, issued now or taken from the cache; `None`
    /// for a name the simulator does not serve.
    pub fn for_name(&self, name: &str) -> Option<Arc<CertifiedKey>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(hit) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&name)
        {
            return Some(hit.clone());
        }
        let untrusted = self.policy(&name)?;
        let issued = match self.issue(&name, untrusted) {
            Ok(issued) => Arc::new(issued),
            Err(error) => {
                tracing::warn!(%name, %error, "cannot issue a certificate");
                return None;
            }
        };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(name, issued.clone());
        Some(issued)
    }

    /// Issues a certificate for `name` (bypassing the cache), signed by the trusted CA or, for
    /// `untrusted`, by the CA nobody trusts.
    pub fn issue(&self, name: &str, untrusted: bool) -> Result<CertifiedKey> {
        let cert_err = |source| Error::Certificate {
            name: Some(name.to_string()),
            source,
        };
        let ca = if untrusted {
            &self.untrusted
        } else {
            &self.trusted
        };
        let mut params = CertificateParams::new(vec![name.to_string()]).map_err(cert_err)?;
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        params.serial_number = Some(SerialNumber::from_slice(&serial.to_be_bytes()));
        let issuer = Issuer::from_params(&ca.params, &ca.key);
        let cert = params
            .signed_by(&self.leaf_key, &issuer)
            .map_err(cert_err)?;
        Ok(CertifiedKey::new(
            vec![cert.der().clone(), ca.cert.clone()],
            self.signing_key.clone(),
        ))
    }
}

/// Picks the certificate from the SNI name; no SNI or an unknown name fails the handshake.
#[derive(Debug)]
pub(crate) struct SniResolver(pub(crate) Arc<Certificates>);

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let name = client_hello.server_name()?;
        self.0.for_name(name)
    }
}

/// The rustls server configuration: ring, TLS 1.2 and 1.3, HTTP/1.1 by ALPN, SNI certificates.
pub(crate) fn server_config(certs: Arc<Certificates>) -> Result<Arc<rustls::ServerConfig>> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SniResolver(certs)));
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
