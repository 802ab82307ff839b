using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace SdBlazor.Engine.Tests.Checkpoints;

/// <summary>A tensor for a test file: float values stored as <see cref="DType"/> (F32, F16, BF16, F64) or raw bytes for other dtypes.</summary>
public sealed record TestTensor(string Name, string DType, long[] Shape, float[]? Values = null, byte[]? Raw = null)
{
    public byte[] Bytes() => Raw ?? DType switch
    {
        "F32" => MemoryMarshal.AsBytes(Values.AsSpan()).ToArray(),
        "F16" => MemoryMarshal.AsBytes(Values!.Select(v => (Half)v).ToArray().AsSpan()).ToArray(),
        "BF16" => MemoryMarshal.AsBytes(Values!.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray().AsSpan()).ToArray(),
        "F64" => MemoryMarshal.AsBytes(Values!.Select(v => (double)v).ToArray().AsSpan()).ToArray(),
        _ => throw new ArgumentException($"no float encoding for {DType}"),
    };

    /// <summary>The values a reader must produce: what the stored dtype keeps of <see cref="Values"/>.</summary>
    public float[] Stored() => DType switch
    {
        "F16" => Values!.Select(v => (float)(Half)v).ToArray(),
        "BF16" => Values!.Select(v => BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(v) & 0xFFFF0000u)).ToArray(),
        _ => Values!,
    };
}

/// <summary>Writes the safetensors format from its specification (8-byte little-endian header size, JSON header, data), padding the header to 8 bytes.</summary>
public static class SafetensorsWriter
{
    public static void Write(string path, IEnumerable<TestTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null)
        {
            var meta = new JsonObject();
            foreach (var (k, v) in metadata) meta[k] = v;
            header["__metadata__"] = meta;
        }
        var blobs = new List<byte[]>();
        long offset = 0;
        foreach (var t in tensors)
        {
            var bytes = t.Bytes();
            header[t.Name] = new JsonObject
            {
                ["dtype"] = t.DType,
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes.Length),
            };
            blobs.Add(bytes);
            offset += bytes.Length;
        }
        WriteRaw(path, header.ToJsonString(), blobs.SelectMany(b => b).ToArray());
    }

    public static void WriteRaw(string path, string headerJson, byte[] data, ulong? headerLengthOverride = null)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        var padded = (header.Length + 7) / 8 * 8;
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes(headerLengthOverride ?? (ulong)padded));
        stream.Write(header);
        for (var i = header.Length; i < padded; i++) stream.WriteByte((byte)' ');
        stream.Write(data);
    }
}
