using QRCoder;

namespace SdBlazor.Web.Sharing.Lan;

/// <summary>QR codes for links, as data URIs (the CSP allows data: images; nothing is fetched for them).</summary>
public static class QrCodes
{
    public static string PngDataUri(string text, int pixelsPerModule = 6)
    {
        using var generator = new QRCodeGenerator();
        using var data = generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.M);
        var png = new PngByteQRCode(data).GetGraphic(pixelsPerModule);
        return "data:image/png;base64," + Convert.ToBase64String(png);
    }
}
