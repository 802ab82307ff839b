using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>
/// The self-signed certificate for HTTPS on the LAN, created once and kept in <c>{DataFolder}/https/lan.pfx</c>
/// (owner-only file permissions where the OS has them). Browsers warn about it; the UI shows its SHA-256
/// fingerprint so people can compare before accepting.
/// </summary>
public static class LanCertificate
{
    public const string FileName = "lan.pfx";

    public static X509Certificate2 LoadOrCreate(string dataFolder)
    {
        var folder = Directory.CreateDirectory(Path.Combine(dataFolder, "https")).FullName;
        var file = Path.Combine(folder, FileName);
        if (File.Exists(file))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(file, null, X509KeyStorageFlags.Exportable);
            if (existing.NotAfter > DateTime.Now.AddDays(7)) return existing;
            existing.Dispose();
        }
        var created = Create(Dns.GetHostName(), Lan.LanAddresses.MachineAddresses());
        var temp = file + ".tmp";
        File.WriteAllBytes(temp, created.Export(X509ContentType.Pfx));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, file, overwrite: true);
        return created;
    }

    public static X509Certificate2 Create(string hostName, IEnumerable<IPAddress> addresses)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN=SdBlazor on {hostName}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddDnsName(hostName);
        names.AddIpAddress(IPAddress.Loopback);
        foreach (var address in addresses) names.AddIpAddress(address);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddYears(2));
        // Round-trip through PFX so the private key is usable by SslStream on every platform.
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pfx), null, X509KeyStorageFlags.Exportable);
    }

    public static string Fingerprint(X509Certificate certificate) =>
        string.Join(':', certificate.GetCertHash(HashAlgorithmName.SHA256).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
}
