namespace Capstan.Transport.Grpc.Tests.Support;

using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

/// <summary>A throw-away CA and a capture certificate (for 127.0.0.1 and localhost) as PEM files in a temp folder.</summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string folder)
    {
        Folder = folder;
    }

    public string Folder { get; }

    public string CaPath => Path.Combine(Folder, "ca.pem");

    public string CertificatePath => Path.Combine(Folder, "capture.pem");

    public string KeyPath => Path.Combine(Folder, "capture-key.pem");

    public TlsOptions Tls => new() { CertificatePemPath = CertificatePath, KeyPemPath = KeyPath, CaPemPath = CaPath };

    public static TestCertificates Create(string name)
    {
        var folder = Directory.CreateTempSubdirectory($"capstan-tls-{name}-").FullName;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=Capstan test CA {name}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caRequest.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=capture-{name}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));   // server and client auth
        using var certificate = request.Create(ca, now.AddMinutes(-5), now.AddDays(1), RandomNumberGenerator.GetBytes(8));

        File.WriteAllText(Path.Combine(folder, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "capture.pem"), certificate.ExportCertificatePem());
        File.WriteAllText(Path.Combine(folder, "capture-key.pem"), key.ExportPkcs8PrivateKeyPem());
        return new TestCertificates(folder);
    }

    public void Dispose() => Directory.Delete(Folder, recursive: true);
}
