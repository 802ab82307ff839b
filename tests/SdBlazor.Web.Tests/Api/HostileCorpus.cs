using System.Buffers.Binary;
using System.Text;
using SdBlazor.Engine.Tests.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Web.Tests.Api;

/// <summary>One corpus file: a name for messages, its bytes, and what a correct server answers.</summary>
/// <param name="Valid">A valid image: 2xx everywhere. Otherwise 4xx, except <paramref name="HeaderValid"/>.</param>
/// <param name="HeaderValid">Chunks and header are sound but the pixel data is not: paths that only read metadata (inspect, png-info) answer 2xx, as A1111's does.</param>
public sealed record HostileFile(string Name, byte[] Bytes, bool Valid, bool HeaderValid = false);

/// <summary>
/// A seeded corpus of hostile uploads (issue 27, robustness suite): truncated and bit-flipped PNGs, text and IDAT
/// bombs, lying chunk lengths, huge dimensions, nested and repeated text chunks, adversarial infotext, damaged JPEG
/// and WebP headers, and non-image bytes that an image extension would pass off as images — plus some valid images.
/// </summary>
public static class HostileCorpus
{
    public static IReadOnlyList<HostileFile> Generate(int count, int seed = 27)
    {
        var random = new Random(seed);
        var valid = HostilePng.Valid(24, 24);
        var jpeg = Jpeg();
        // Bombs are expensive to compress, so a few are made once and reused in many files.
        var bombs = new[] { HostilePng.ZeroBomb(4L << 20), HostilePng.ZeroBomb(64L << 20) };
        var adversarial = new[] { new string('a', 200_000), "a: " + new string('x', 200_000), string.Concat(Enumerable.Repeat("ab -/ ", 30_000)) };

        var files = new List<HostileFile>(count);
        for (var i = 0; files.Count < count; i++)
        {
            var kind = i % 20;
            byte[] bytes;
            var ok = false;
            var headerOk = false;
            switch (kind)
            {
                case 0:
                    bytes = valid[..random.Next(1, valid.Length - 1)];
                    break;
                case 1:
                    bytes = (byte[])valid.Clone();
                    var at = random.Next(8, bytes.Length);
                    bytes[at] ^= (byte)random.Next(1, 256);
                    break;
                case 2:
                    bytes = HostilePng.WithChunk(valid, HostilePng.Chunk("zTXt", HostilePng.ZTxt("parameters", bombs[random.Next(bombs.Length)])));
                    break;
                case 3:
                    bytes = HostilePng.WithChunk(valid, HostilePng.Chunk("iTXt", HostilePng.ITxt("parameters", bombs[random.Next(bombs.Length)])));
                    break;
                case 4:
                    bytes = HostilePng.WithChunk(valid, HostilePng.Chunk("tEXt", HostilePng.TExt("parameters", new string('p', (1 << 20) + random.Next(1, 1000)))));
                    break;
                case 5:
                    bytes = HostilePng.Png(HostilePng.Header((uint)random.Next(8193, int.MaxValue), (uint)random.Next(1, int.MaxValue)),
                        HostilePng.Chunk("IDAT", bombs[0]), HostilePng.Chunk("IEND", []));
                    break;
                case 6:
                    // Within the size caps, the IDAT inflates far beyond what the header needs: decodes to what the header says.
                    bytes = HostilePng.Png(HostilePng.Header(32, 32), HostilePng.Chunk("IDAT", bombs[random.Next(bombs.Length)]), HostilePng.Chunk("IEND", []));
                    ok = true;
                    break;
                case 7:
                    bytes = [.. valid.AsSpan(0, 33), .. LengthLie(random), .. "tEXt"u8, .. Enumerable.Repeat((byte)'a', random.Next(0, 64))];
                    break;
                case 8:
                    // A PNG (with a bomb) inside a text chunk inside a PNG: readers must not recurse into it.
                    var inner = HostilePng.WithChunk(valid, HostilePng.Chunk("zTXt", HostilePng.ZTxt("parameters", bombs[0])));
                    bytes = HostilePng.WithChunk(valid, HostilePng.Chunk("tEXt", [.. "nested"u8, 0, .. inner]));
                    ok = true;
                    break;
                case 9:
                    bytes = valid;
                    for (var k = 0; k < 257 + random.Next(0, 50); k++) bytes = HostilePng.WithChunk(bytes, HostilePng.Chunk("tEXt", HostilePng.TExt("k" + k, "v")));
                    break;
                case 10:
                    bytes = HostilePng.WithChunk(valid, HostilePng.Chunk("tEXt", HostilePng.TExt("parameters", "prompt\n" + adversarial[random.Next(adversarial.Length)])));
                    ok = true;
                    break;
                case 11:
                    bytes = new byte[random.Next(0, 4096)];
                    random.NextBytes(bytes);
                    break;
                case 12:
                    bytes = Encoding.UTF8.GetBytes(random.Next(3) switch { 0 => "<html><body>not a png</body></html>", 1 => "{\"image\": true}", _ => "GIF89a" + new string('x', 100) });
                    break;
                case 13:
                    bytes = [.. HostilePng.Signature, .. RandomBytes(random, random.Next(0, 200))];
                    break;
                case 14:
                    bytes = JpegWithSize(jpeg, (ushort)random.Next(40_000, 65_536), (ushort)random.Next(40_000, 65_536));
                    break;
                case 15:
                    // Cut before the scan data: a JPEG cut inside it still decodes (grey below the cut), as in browsers.
                    bytes = jpeg[..random.Next(3, StartOfScan(jpeg))];
                    break;
                case 16:
                    bytes = [.. "RIFF"u8, 0, 0, 0, 0, .. "WEBPVP8X"u8, 10, 0, 0, 0, (byte)random.Next(0, 256), .. RandomBytes(random, random.Next(0, 300))];
                    break;
                case 17:
                    bytes = HostilePng.Png(HostilePng.Header(16, 16), HostilePng.Chunk("IDAT", RandomBytes(random, 200)), HostilePng.Chunk("IEND", []));
                    headerOk = true;
                    break;
                case 18:
                    bytes = random.Next(2) == 0 ? valid : jpeg;
                    ok = true;
                    break;
                default:
                    bytes = HostilePng.Png(HostilePng.Header(16, 16, depth: (byte)random.Next(0, 256), colour: (byte)random.Next(7, 256)),
                        HostilePng.Chunk("IDAT", [1]), HostilePng.Chunk("IEND", []));
                    break;
            }
            files.Add(new HostileFile($"{i:0000}-kind{kind}", bytes, ok, ok || headerOk));
        }
        return files;
    }

    private static int StartOfScan(byte[] jpeg)
    {
        for (var i = 2; i + 1 < jpeg.Length; i++) if (jpeg[i] == 0xFF && jpeg[i + 1] == 0xDA) return i;
        throw new InvalidOperationException("no SOS marker");
    }

    private static byte[] LengthLie(Random random)
    {
        var length = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(length, (uint)random.Next(1 << 20, int.MaxValue));
        return length;
    }

    private static byte[] RandomBytes(Random random, int n)
    {
        var bytes = new byte[n];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Jpeg()
    {
        using var image = new Image<Rgb24>(24, 24, new Rgb24(200, 20, 20));
        using var ms = new MemoryStream();
        image.SaveAsJpeg(ms);
        return ms.ToArray();
    }

    /// <summary>The JPEG with its SOF0 frame size replaced (a header asking for up to 65535² pixels).</summary>
    private static byte[] JpegWithSize(byte[] jpeg, ushort width, ushort height)
    {
        var bytes = (byte[])jpeg.Clone();
        for (var i = 2; i + 9 < bytes.Length; i++)
        {
            if (bytes[i] == 0xFF && bytes[i + 1] is 0xC0 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 5), height);
                BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 7), width);
                return bytes;
            }
        }
        throw new InvalidOperationException("no SOF marker");
    }
}
