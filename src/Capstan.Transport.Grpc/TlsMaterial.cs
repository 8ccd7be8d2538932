namespace Capstan.Transport.Grpc;

using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Https;

/// <summary>
/// The loaded TLS files of <see cref="TlsOptions"/>: the capture's certificate with its key and the
/// CA certificates peers must chain to; builds the server and client TLS settings.
/// </summary>
internal sealed class TlsMaterial : IDisposable
{
    private TlsMaterial(X509Certificate2 certificate, X509Certificate2Collection? roots, bool requireClientCertificate)
    {
        Certificate = certificate;
        Roots = roots;
        RequireClientCertificate = requireClientCertificate && roots is not null;
    }

    /// <summary>The capture's certificate, with its private key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The trusted CA certificates; null = the system trust store.</summary>
    public X509Certificate2Collection? Roots { get; }

    /// <summary>True when servers require (and clients present) a certificate: mutual TLS.</summary>
    public bool RequireClientCertificate { get; }

    /// <summary>Loads the PEM files.</summary>
    public static TlsMaterial Load(TlsOptions options)
    {
        options.Validate();
        var certificate = X509Certificate2.CreateFromPemFile(options.CertificatePemPath, options.KeyPemPath);
        X509Certificate2Collection? roots = null;
        if (options.CaPemPath is not null)
        {
            roots = [];
            roots.ImportFromPemFile(options.CaPemPath);
            if (roots.Count == 0)
            {
                throw new ArgumentException($"CaPemPath: '{options.CaPemPath}' holds no certificate", nameof(options));
            }
        }

        return new TlsMaterial(certificate, roots, options.RequireClientCertificate);
    }

    /// <summary>Kestrel's HTTPS settings for the gRPC endpoint.</summary>
    public HttpsConnectionAdapterOptions ServerOptions() => new()
    {
        ServerCertificate = Certificate,
        SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        ClientCertificateMode = RequireClientCertificate ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.NoCertificate,
        ClientCertificateValidation = RequireClientCertificate ? (certificate, _, _) => ChainsToRoots(certificate) : null,
    };

    /// <summary>The client's TLS settings for connections to peers.</summary>
    public SslClientAuthenticationOptions ClientOptions()
    {
        var options = new SslClientAuthenticationOptions
        {
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            RemoteCertificateValidationCallback = ValidateServer,
        };
        if (RequireClientCertificate)
        {
            options.ClientCertificates = [Certificate];
        }

        return options;
    }

    /// <inheritdoc/>
    public void Dispose() => Certificate.Dispose();

    private bool ValidateServer(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNotAvailable | SslPolicyErrors.RemoteCertificateNameMismatch)) != 0)
        {
            return false;
        }

        if (Roots is null)
        {
            return errors == SslPolicyErrors.None;
        }

        if (certificate is X509Certificate2 certificate2)
        {
            return ChainsToRoots(certificate2);
        }

        using var loaded = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return ChainsToRoots(loaded);
    }

    private bool ChainsToRoots(X509Certificate2 certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(Roots!);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }
}
