using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SdBlazor.Engine.Tests.Imaging;

/// <summary>Test-side view of raw PNG chunks, independent of ImageSharp, to check what is really in the file.</summary>
internal static class PngChunkBytes
{
    public sealed record Chunk(string Type, byte[] Data);

    public static List<Chunk> Parse(byte[] png)
    {
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        var chunks = new List<Chunk>();
        var pos = 8;
        while (pos < png.Length)
        {
            var length = (int)BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, length).ToArray();
            var crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(Crc(png.AsSpan(pos + 4, 4 + length)), crc);
            chunks.Add(new Chunk(type, data));
            pos += 12 + length;
        }
        return chunks;
    }

    /// <summary>Inserts a chunk right after IHDR (where text chunks usually sit).</summary>
    public static byte[] InsertAfterHeader(byte[] png, string type, byte[] data)
    {
        var ihdrEnd = 8 + 12 + 13;
        using var ms = new MemoryStream();
        ms.Write(png, 0, ihdrEnd);
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(u32, (uint)data.Length);
        ms.Write(u32);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        ms.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(u32, Crc(typeAndData));
        ms.Write(u32);
        ms.Write(png, ihdrEnd, png.Length - ihdrEnd);
        return ms.ToArray();
    }

    public static byte[] ZTxt(string keyword, string latin1Text) =>
        [.. Encoding.Latin1.GetBytes(keyword), 0, 0, .. Zlib(Encoding.Latin1.GetBytes(latin1Text))];

    public static byte[] ITxtCompressed(string keyword, string text) =>
        [.. Encoding.Latin1.GetBytes(keyword), 0, 1, 0, 0, 0, .. Zlib(Encoding.UTF8.GetBytes(text))];

    public static byte[] TExt(string keyword, string latin1Text) =>
        [.. Encoding.Latin1.GetBytes(keyword), 0, .. Encoding.Latin1.GetBytes(latin1Text)];

    private static byte[] Zlib(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.Optimal, leaveOpen: true)) z.Write(data);
        return ms.ToArray();
    }

    // CRC-32 as the PNG spec defines it (bitwise; test data is small).
    private static uint Crc(ReadOnlySpan<byte> bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
        }
        return crc ^ 0xFFFFFFFFu;
    }
}
