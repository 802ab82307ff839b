using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;

namespace SdBlazor.Engine.Imaging;

/// <summary>What a PNG's chunks say before any pixel is decoded: its size from IHDR and its text chunks.</summary>
public sealed record PngHeader(int Width, int Height, IReadOnlyDictionary<string, string> Texts);

/// <summary>
/// Walks a PNG's chunks before ImageSharp sees the file, because ImageSharp 2.x trusts them: it allocates a chunk's
/// declared length before reading it (a 40-byte file can ask for 2 GB) and inflates zTXt/iTXt without a limit (a
/// 1 KB chunk can inflate to gigabytes). Here every length must fit the file, every CRC must match, IHDR must come
/// first and IEND must be there, and text is inflated with a hard cap.
/// Written by hand: ImageSharp 2.1 has no limits to set, and the PNG chunk layout is small and fixed (PNG spec §5, §11.3.4).
/// </summary>
public static class PngChunkReader
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <exception cref="InvalidImageContentException">The file is damaged or exceeds <paramref name="limits"/>; the message says which.</exception>
    public static PngHeader Read(ReadOnlySpan<byte> png, ImageLimits limits)
    {
        if (!png.StartsWith(Signature)) throw Bad("The file is not a PNG.");
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        long textBytes = 0;
        int width = 0, height = 0, textChunks = 0;
        var sawData = false;
        var pos = Signature.Length;
        for (var index = 0; ; index++)
        {
            if (png.Length - pos < 12) throw Bad("The PNG is truncated (it ends inside a chunk, before IEND).");
            var length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            var typeBytes = png.Slice(pos + 4, 4);
            if (!IsChunkType(typeBytes)) throw Bad($"The PNG has a malformed chunk at byte {pos}.");
            var type = Encoding.ASCII.GetString(typeBytes);
            if (length > int.MaxValue || length > png.Length - pos - 12)
                throw Bad($"The PNG's {type} chunk claims {length} bytes but the file ends before that.");
            var data = png.Slice(pos + 8, (int)length);
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            if (crc != Crc32.Compute(png.Slice(pos + 4, 4 + (int)length))) throw Bad($"The PNG's {type} chunk is damaged (CRC mismatch).");
            pos += 12 + (int)length;

            if (index == 0)
            {
                if (type != "IHDR" || length != 13) throw Bad("The PNG does not start with an IHDR header.");
                (width, height) = ReadHeader(data, limits);
                continue;
            }
            switch (type)
            {
                case "IHDR": throw Bad("The PNG has more than one IHDR header.");
                case "IDAT": sawData = true; break;
                case "IEND":
                    if (!sawData) throw Bad("The PNG has no image data (IDAT).");
                    return new PngHeader(width, height, texts);
                case "tEXt" or "zTXt" or "iTXt":
                    if (++textChunks > limits.MaxTextChunks) throw Bad($"The PNG has more than {limits.MaxTextChunks} text chunks.");
                    var (keyword, value) = ReadText(type, data, limits);
                    textBytes += value.Length;
                    if (textBytes > limits.MaxTotalTextChars) throw Bad($"The PNG's text chunks hold more than {limits.MaxTotalTextChars:N0} characters in total.");
                    texts.TryAdd(keyword, value);
                    break;
            }
        }
    }

    private static (int Width, int Height) ReadHeader(ReadOnlySpan<byte> data, ImageLimits limits)
    {
        var width = BinaryPrimitives.ReadUInt32BigEndian(data);
        var height = BinaryPrimitives.ReadUInt32BigEndian(data[4..]);
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue) throw Bad($"The PNG header gives an impossible size ({width}x{height}).");
        limits.CheckSize((int)width, (int)height);
        byte depth = data[8], colour = data[9];
        var valid = colour switch
        {
            0 => depth is 1 or 2 or 4 or 8 or 16,
            3 => depth is 1 or 2 or 4 or 8,
            2 or 4 or 6 => depth is 8 or 16,
            _ => false,
        };
        if (!valid || data[10] != 0 || data[11] != 0 || data[12] > 1)
            throw Bad($"The PNG header is invalid (bit depth {depth}, colour type {colour}).");
        return ((int)width, (int)height);
    }

    private static (string Keyword, string Value) ReadText(string type, ReadOnlySpan<byte> data, ImageLimits limits)
    {
        var nul = data.IndexOf((byte)0);
        if (nul is < 1 or > 79) throw Bad($"The PNG has a {type} chunk without a valid keyword.");
        var keyword = Encoding.Latin1.GetString(data[..nul]);
        var rest = data[(nul + 1)..];
        switch (type)
        {
            case "tEXt":
                return (keyword, Encoding.Latin1.GetString(Cap(rest, limits, type)));
            case "zTXt":
                if (rest.Length < 1 || rest[0] != 0) throw Bad("The PNG has a zTXt chunk with an unknown compression method.");
                return (keyword, Encoding.Latin1.GetString(Inflate(rest[1..], limits, type)));
            default:
                if (rest.Length < 2 || rest[0] > 1 || rest[1] != 0) throw Bad("The PNG has a malformed iTXt chunk.");
                var compressed = rest[0] == 1;
                rest = rest[2..];
                for (var i = 0; i < 2; i++)
                {
                    // Language tag, then translated keyword, each NUL-terminated.
                    var end = rest.IndexOf((byte)0);
                    if (end < 0) throw Bad("The PNG has a malformed iTXt chunk.");
                    rest = rest[(end + 1)..];
                }
                var text = compressed ? Inflate(rest, limits, type) : Cap(rest, limits, type);
                return (keyword, Encoding.UTF8.GetString(text));
        }
    }

    private static ReadOnlySpan<byte> Cap(ReadOnlySpan<byte> text, ImageLimits limits, string type) =>
        text.Length <= limits.MaxTextChunkBytes ? text : throw TooLong(type, limits);

    /// <summary>Inflates at most <see cref="ImageLimits.MaxTextChunkBytes"/>; one byte more and the chunk is refused.</summary>
    private static byte[] Inflate(ReadOnlySpan<byte> compressed, ImageLimits limits, string type)
    {
        using var input = new MemoryStream(compressed.ToArray(), writable: false);
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        var output = new byte[Math.Min(limits.MaxTextChunkBytes + 1, Math.Max(4096, compressed.Length * 4))];
        var total = 0;
        try
        {
            int read;
            while ((read = zlib.Read(output, total, output.Length - total)) > 0)
            {
                total += read;
                if (total > limits.MaxTextChunkBytes) throw TooLong(type, limits);
                if (total == output.Length) Array.Resize(ref output, (int)Math.Min(limits.MaxTextChunkBytes + 1L, output.Length * 2L));
            }
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidImageContentException($"The PNG has a {type} chunk whose compressed text is damaged.", ex);
        }
        return output[..total];
    }

    private static bool IsChunkType(ReadOnlySpan<byte> type)
    {
        foreach (var b in type) if (!char.IsAsciiLetter((char)b)) return false;
        return true;
    }

    private static InvalidImageContentException TooLong(string type, ImageLimits limits) =>
        Bad($"The PNG has a {type} text chunk longer than {limits.MaxTextChunkBytes / 1024:N0} KB (decompression bomb?).");

    private static InvalidImageContentException Bad(string message) => new(message);
}

/// <summary>PNG's CRC-32 (ISO 3309, reflected 0xEDB88320), table-driven; System.IO.Hashing is not a dependency here.</summary>
internal static class Crc32
{
    private static readonly uint[] Table = Build();

    public static uint Compute(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] Build()
    {
        var table = new uint[256];
        for (var n = 0u; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            table[n] = c;
        }
        return table;
    }
}
