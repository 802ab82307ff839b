using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace SdBlazor.Engine.Models.Sources;

/// <summary>
/// A <c>.safetensors</c> file (8-byte little-endian header length, JSON header, data area) read through a memory map:
/// tensors are widened to fp32 one at a time straight from the mapped pages, so a multi-GB checkpoint is never copied
/// into managed memory. <see cref="Open"/> checks the whole header up front (sizes, dtypes, every tensor inside the data
/// area and none overlapping), so a damaged or hostile file fails in milliseconds with a message naming the model.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>The largest header accepted (the real SDXL base header is ~0.3 MB; the format's own reader caps at 100 MB).</summary>
    public const long MaxHeaderBytes = 100L << 20;
    public const int MaxRank = 8;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _base;

    private SafetensorsFile(string path, string modelName, long length, long dataStart,
        Dictionary<string, SafetensorsTensor> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        ModelName = modelName;
        Length = length;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        if (length > dataStart)
        {
            _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _view = _map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
        }
    }

    public string Path { get; }
    public string ModelName { get; }
    public long Length { get; }
    public long DataStart { get; }
    public IReadOnlyDictionary<string, SafetensorsTensor> Tensors { get; }

    /// <summary>The header's <c>__metadata__</c> (string to string, as the format defines it).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    public static SafetensorsFile Open(string path, string modelName)
    {
        var (length, dataStart, tensors, metadata) = ReadHeader(path, modelName);
        return new SafetensorsFile(path, modelName, length, dataStart, tensors, metadata);
    }

    /// <summary>Reads and checks only the header (listing models, detecting the architecture); no mapping is made.</summary>
    public static (long Length, long DataStart, Dictionary<string, SafetensorsTensor> Tensors, Dictionary<string, string> Metadata) ReadHeader(string path, string modelName)
    {
        byte[] header;
        long length;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
            length = stream.Length;
            if (length < 8) throw Fail(modelName, $"the file is {length} bytes, too short for a safetensors file (it is truncated or not safetensors).");
            Span<byte> prefix = stackalloc byte[8];
            stream.ReadExactly(prefix);
            var headerLength = BitConverter.ToUInt64(prefix);
            if (headerLength > (ulong)(length - 8))
                throw Fail(modelName, $"the header length field says {headerLength} bytes but the file has only {length - 8} after it: the file is truncated or not safetensors.");
            if (headerLength > MaxHeaderBytes)
                throw Fail(modelName, $"the header length field says {headerLength} bytes; at most {MaxHeaderBytes} are accepted.");
            if (headerLength < 2) throw Fail(modelName, "the header is empty: not a safetensors file.");
            header = new byte[headerLength];
            stream.ReadExactly(header);
        }
        catch (IOException ex)
        {
            throw new CheckpointException(modelName, $"the file cannot be read: {ex.Message}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new CheckpointException(modelName, $"the file cannot be read: {ex.Message}", ex);
        }

        var dataStart = 8 + header.LongLength;
        var (tensors, metadata) = ParseHeader(header, length - dataStart, modelName);
        return (length, dataStart, tensors, metadata);
    }

    private static (Dictionary<string, SafetensorsTensor>, Dictionary<string, string>) ParseHeader(byte[] header, long dataLength, string modelName)
    {
        JsonDocument document;
        try
        {
            // Trailing spaces are the format's padding to an 8-byte boundary.
            document = JsonDocument.Parse(header.AsMemory().TrimEnd((byte)' '), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw Fail(modelName, $"the header is not valid JSON ({ex.Message}): the file is damaged or not safetensors.", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw Fail(modelName, "the header is not a JSON object: not a safetensors file.");
            var tensors = new Dictionary<string, SafetensorsTensor>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object) throw Fail(modelName, "__metadata__ is not an object.");
                    foreach (var entry in property.Value.EnumerateObject())
                        metadata[entry.Name] = entry.Value.ValueKind == JsonValueKind.String ? entry.Value.GetString()! : entry.Value.GetRawText();
                    continue;
                }
                if (!tensors.TryAdd(property.Name, ReadTensor(property, dataLength, modelName)))
                    throw Fail(modelName, $"tensor '{property.Name}' appears twice in the header.");
            }

            var ordered = tensors.Values.Where(t => t.Length > 0).OrderBy(t => t.Offset).ToList();
            for (var i = 1; i < ordered.Count; i++)
            {
                if (ordered[i].Offset < ordered[i - 1].Offset + ordered[i - 1].Length)
                    throw Fail(modelName, $"tensors '{ordered[i - 1].Name}' and '{ordered[i].Name}' overlap in the data area: the file is damaged.");
            }
            return (tensors, metadata);
        }
    }

    private static SafetensorsTensor ReadTensor(JsonProperty property, long dataLength, string modelName)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw Fail(modelName, $"tensor '{name}': header entry is not an object.");
        if (!value.TryGetProperty("dtype", out var dtypeNode) || dtypeNode.ValueKind != JsonValueKind.String)
            throw Fail(modelName, $"tensor '{name}' has no dtype.");
        var dtypeName = dtypeNode.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Fail(modelName, $"tensor '{name}' has dtype '{Shorten(dtypeName)}', which this engine does not know (known: F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL).");
        if (!value.TryGetProperty("shape", out var shapeNode) || shapeNode.ValueKind != JsonValueKind.Array || shapeNode.GetArrayLength() > MaxRank)
            throw Fail(modelName, $"tensor '{name}' has no valid shape (an array of at most {MaxRank} sizes).");
        var shape = new long[shapeNode.GetArrayLength()];
        var elements = 1L;
        var i = 0;
        foreach (var dim in shapeNode.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out var size) || size < 0)
                throw Fail(modelName, $"tensor '{name}' has an invalid size in its shape.");
            shape[i++] = size;
            elements = size == 0 || elements == 0 ? 0 : elements > dataLength / size ? long.MaxValue : elements * size;
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw Fail(modelName, $"tensor '{name}' has invalid data_offsets (two byte offsets, begin ≤ end).");
        if (end > dataLength)
            throw Fail(modelName, $"tensor '{name}' ends at byte {end} of the data area, which has only {dataLength} bytes: the file is truncated or damaged.");
        var expected = elements == long.MaxValue ? long.MaxValue : elements * dtype.Size();
        if (expected != end - begin)
            throw Fail(modelName, $"tensor '{name}' ({dtype.Name()} {string.Join("×", shape)}) needs {(expected == long.MaxValue ? "more" : expected.ToString())} bytes but its data_offsets give {end - begin}.");
        return new SafetensorsTensor(name, dtype, shape, begin, end - begin);
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static CheckpointException Fail(string modelName, string problem, Exception? inner = null) => new(modelName, problem, inner);

    /// <summary>The raw bytes of <paramref name="tensor"/> in the mapped file (valid until dispose).</summary>
    public ReadOnlySpan<byte> Bytes(SafetensorsTensor tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (tensor.Length == 0) return [];
        if (tensor.Length > int.MaxValue) throw new CheckpointException(ModelName, $"tensor '{tensor.Name}' is over 2 GB; not supported.");
        return new ReadOnlySpan<byte>(_base + DataStart + tensor.Offset, (int)tensor.Length);
    }

    /// <summary>
    /// Widens <paramref name="count"/> elements of a float tensor, starting at element <paramref name="start"/>, into
    /// <paramref name="destination"/> (F16 via <see cref="Half"/>, BF16 by a 16-bit shift: bf16 is fp32's upper half).
    /// </summary>
    public void ReadFloat32(SafetensorsTensor tensor, long start, Span<float> destination)
    {
        var count = destination.Length;
        if (start < 0 || start + count > tensor.ElementCount)
            throw new ArgumentOutOfRangeException(nameof(start), $"elements {start}..{start + count} are outside tensor '{tensor.Name}' ({tensor.ElementCount}).");
        var size = tensor.DType.Size();
        var bytes = Bytes(tensor).Slice((int)(start * size), count * size);
        switch (tensor.DType)
        {
            case SafetensorsDType.F32:
                MemoryMarshal.Cast<byte, float>(bytes).CopyTo(destination);
                break;
            case SafetensorsDType.F16:
                var halves = MemoryMarshal.Cast<byte, Half>(bytes);
                for (var i = 0; i < count; i++) destination[i] = (float)halves[i];
                break;
            case SafetensorsDType.BF16:
                var shorts = MemoryMarshal.Cast<byte, ushort>(bytes);
                var bits = MemoryMarshal.Cast<float, uint>(destination);
                for (var i = 0; i < count; i++) bits[i] = (uint)shorts[i] << 16;
                break;
            case SafetensorsDType.F64:
                var doubles = MemoryMarshal.Cast<byte, double>(bytes);
                for (var i = 0; i < count; i++) destination[i] = (float)doubles[i];
                break;
            default:
                throw new CheckpointException(ModelName, $"tensor '{tensor.Name}' is {tensor.DType.Name()}, not a floating-point weight.");
        }
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
