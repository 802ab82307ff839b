using System.Buffers.Binary;
using System.Text.Json;

namespace SdBlazor.Web.Api.Extras;

/// <summary>
/// The <c>__metadata__</c> of a <c>.safetensors</c> file (kohya's <c>ss_*</c> training notes, A1111's <c>modelspec.*</c>),
/// read from the header only: an 8-byte little-endian length, then that many bytes of JSON.
/// </summary>
public static class SafetensorsMetadata
{
    /// <summary>Headers larger than this are not read (SD checkpoints' headers are under 1 MB; LoRAs' far less).</summary>
    public const int MaxHeaderBytes = 16 * 1024 * 1024;

    /// <returns>The metadata strings; empty when the file has none; null when it is not a readable safetensors file.</returns>
    public static Dictionary<string, string>? Read(string path) => Read(path, out _);

    /// <param name="shapes">Each tensor's shape, by name.</param>
    public static Dictionary<string, string>? Read(string path, out Dictionary<string, long[]> shapes)
    {
        shapes = [];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            Span<byte> prefix = stackalloc byte[8];
            if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8) return null;
            var length = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (length < 2 || length > MaxHeaderBytes || (long)length > stream.Length - 8) return null;
            var header = new byte[(int)length];
            stream.ReadExactly(header);
            using var document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 16 });
            if (document.RootElement.ValueKind != JsonValueKind.Object) return null;
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var tensor in document.RootElement.EnumerateObject())
            {
                if (tensor.Name == "__metadata__" || tensor.Value.ValueKind != JsonValueKind.Object) continue;
                if (tensor.Value.TryGetProperty("shape", out var shape) && shape.ValueKind == JsonValueKind.Array)
                    shapes[tensor.Name] = shape.EnumerateArray().Select(d => d.TryGetInt64(out var v) ? v : -1).ToArray();
            }
            if (document.RootElement.TryGetProperty("__metadata__", out var metadata) && metadata.ValueKind == JsonValueKind.Object)
                foreach (var entry in metadata.EnumerateObject())
                    result[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
            return result;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or EndOfStreamException)
        {
            return null;
        }
    }
}
