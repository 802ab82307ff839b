using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SdBlazor.Engine.Tests.Imaging;

/// <summary>Builds hostile PNGs chunk by chunk (shared with the web project's robustness corpus).</summary>
public static class HostilePng
{
    public static readonly byte[] Signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static byte[] Chunk(string type, ReadOnlySpan<byte> data, bool badCrc = false)
    {
        var bytes = new byte[12 + data.Length];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)data.Length);
        Encoding.ASCII.GetBytes(type).CopyTo(bytes, 4);
        data.CopyTo(bytes.AsSpan(8));
        var crc = Crc(bytes.AsSpan(4, 4 + data.Length));
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8 + data.Length), badCrc ? ~crc : crc);
        return bytes;
    }

    public static byte[] Header(uint width, uint height, byte depth = 8, byte colour = 2)
    {
        var data = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(data, width);
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(4), height);
        data[8] = depth;
        data[9] = colour;
        return Chunk("IHDR", data);
    }

    public static byte[] Png(params byte[][] chunks) => [.. Signature, .. chunks.SelectMany(c => c)];

    /// <summary>A small real PNG (ImageSharp-encoded), to insert hostile chunks into.</summary>
    public static byte[] Valid(int width = 16, int height = 16)
    {
        using var image = new Image<Rgb24>(width, height, new Rgb24(10, 200, 30));
        using var ms = new MemoryStream();
        image.SaveAsPng(ms);
        return ms.ToArray();
    }

    /// <summary><paramref name="png"/> with <paramref name="chunk"/> inserted right after IHDR.</summary>
    public static byte[] WithChunk(byte[] png, byte[] chunk) => [.. png.AsSpan(0, 33), .. chunk, .. png.AsSpan(33)];

    /// <summary>zlib data that inflates to <paramref name="size"/> zero bytes (about 1/1000 of that compressed).</summary>
    public static byte[] ZeroBomb(long size)
    {
        using var ms = new MemoryStream();
        using (var z = new ZLibStream(ms, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (long done = 0; done < size; done += zeros.Length) z.Write(zeros, 0, (int)Math.Min(zeros.Length, size - done));
        }
        return ms.ToArray();
    }

    public static byte[] ZTxt(string keyword, byte[] zlib) => [.. Encoding.Latin1.GetBytes(keyword), 0, 0, .. zlib];

    public static byte[] ITxt(string keyword, byte[] zlib) => [.. Encoding.Latin1.GetBytes(keyword), 0, 1, 0, 0, 0, .. zlib];

    public static byte[] TExt(string keyword, string text) => [.. Encoding.Latin1.GetBytes(keyword), 0, .. Encoding.Latin1.GetBytes(text)];

    public static uint Crc(ReadOnlySpan<byte> bytes)
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
