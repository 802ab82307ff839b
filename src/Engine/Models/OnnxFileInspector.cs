namespace SdBlazor.Engine.Models;

/// <summary>
/// Checks an ONNX file without loading its weights: the protobuf structure must be complete (a truncated download
/// fails here with a clear message instead of deep inside ONNX Runtime), and every initializer stored as external data
/// must point to an existing file inside the model folder.
/// </summary>
/// <remarks>
/// A hand-rolled wire-format walker rather than Google.Protobuf's ModelProto parser: SD UNets embed up to 2 GB of
/// weights, and the walker seeks past <c>raw_data</c> instead of reading it into memory. Only the few ONNX field
/// numbers needed are used (onnx.proto: ModelProto.graph = 7, GraphProto.node = 1, GraphProto.initializer = 5,
/// NodeProto input = 1 / output = 2 / op_type = 4, TensorProto.dims = 1, TensorProto.name = 8,
/// TensorProto.external_data = 13, StringStringEntryProto key = 1 / value = 2).
/// </remarks>
public static class OnnxFileInspector
{
    private const int ModelGraph = 7;
    private const int GraphInitializer = 5;
    private const int TensorName = 8;
    private const int TensorExternalData = 13;
    private const int GraphNode = 1;
    private const int NodeInput = 1;
    private const int NodeOutput = 2;
    private const int NodeOpType = 4;
    private const int TensorDims = 1;

    /// <summary>Throws <see cref="ModelFolderException"/> naming <paramref name="onnxPath"/> when the file is corrupt or its external data is unsafe or missing.</summary>
    /// <param name="modelRoot">The model folder; external data must resolve inside it.</param>
    public static void Inspect(string onnxPath, string modelRoot)
    {
        var display = Display(onnxPath, modelRoot);
        List<(string Tensor, ExternalData Data)> external;
        try
        {
            using var stream = new FileStream(onnxPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12);
            if (stream.Length == 0) throw new ModelFolderException($"{display} is empty (0 bytes).");
            var reader = new WireReader(stream);
            external = ReadModel(reader, display);
        }
        catch (InvalidDataException ex)
        {
            throw new ModelFolderException($"{display} is not a valid ONNX model: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new ModelFolderException($"{display} cannot be read: {ex.Message}", ex);
        }

        var onnxDir = Path.GetDirectoryName(Path.GetFullPath(onnxPath))!;
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelRoot)) + Path.DirectorySeparatorChar;
        foreach (var (tensor, data) in external)
        {
            if (data.Location is null)
                throw new ModelFolderException($"{display}: initializer '{tensor}' is stored as external data without a 'location'.");
            if (Path.IsPathRooted(data.Location) || data.Location.Contains(':'))
                throw new ModelFolderException($"{display}: initializer '{tensor}' points to external data at an absolute path '{data.Location}'; external data must stay inside the model folder.");
            var full = Path.GetFullPath(Path.Combine(onnxDir, data.Location));
            if (!full.StartsWith(root, StringComparison.Ordinal))
                throw new ModelFolderException($"{display}: initializer '{tensor}' points to external data '{data.Location}' outside the model folder; refused.");
            var info = new FileInfo(full);
            if (!info.Exists)
                throw new ModelFolderException($"{display}: external data file '{Relative(full, modelRoot)}' (initializer '{tensor}') is missing.");
            if (data.Offset + data.Length > info.Length)
                throw new ModelFolderException($"{display}: external data file '{Relative(full, modelRoot)}' is {info.Length} bytes but initializer '{tensor}' needs bytes up to {data.Offset + data.Length}; the file is truncated.");
        }
    }

    /// <summary>
    /// The input channels of the first convolution applied to <paramref name="inputName"/> (through Casts), read from its
    /// weight initializer's dims [out, in, kh, kw]; null when the graph does not show it. Exported UNets often leave the
    /// channel axis of <c>sample</c> symbolic, and only this weight tells a 9-channel inpainting UNet from a 4-channel one
    /// (A1111 tells them apart by the same weight in the checkpoint).
    /// </summary>
    public static int? FirstConvInputChannels(string onnxPath, string inputName)
    {
        try
        {
            using var stream = new FileStream(onnxPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 12);
            var reader = new WireReader(stream);
            var nodes = new List<(string Op, List<string> Inputs, List<string> Outputs)>();
            var dims = new Dictionary<string, List<long>>(StringComparer.Ordinal);
            while (!reader.AtEnd(long.MaxValue))
            {
                var (field, wire) = reader.ReadTag();
                if (field != ModelGraph || wire != WireType.LengthDelimited)
                {
                    reader.Skip(wire);
                    continue;
                }
                var end = reader.ReadLengthEnd();
                while (!reader.AtEnd(end))
                {
                    var (f, w) = reader.ReadTag();
                    if (f == GraphNode && w == WireType.LengthDelimited) nodes.Add(ReadNode(reader, reader.ReadLengthEnd()));
                    else if (f == GraphInitializer && w == WireType.LengthDelimited)
                    {
                        var (name, shape) = ReadTensorDims(reader, reader.ReadLengthEnd());
                        dims[name] = shape;
                    }
                    else reader.Skip(w);
                }
            }
            var names = new HashSet<string>(StringComparer.Ordinal) { inputName };
            // Casts (fp16 graphs) may sit between the input and the convolution; nodes are in topological order.
            foreach (var (op, inputs, outputs) in nodes)
            {
                if (inputs.Count == 0 || !names.Contains(inputs[0])) continue;
                if (op == "Cast") names.UnionWith(outputs);
                else if (op == "Conv" && inputs.Count > 1)
                    return dims.TryGetValue(inputs[1], out var shape) && shape.Count == 4 ? (int)shape[1] : null;
            }
            return null;
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            return null;
        }
    }

    private static (string Op, List<string> Inputs, List<string> Outputs) ReadNode(WireReader reader, long end)
    {
        var op = "";
        List<string> inputs = [], outputs = [];
        while (!reader.AtEnd(end))
        {
            var (field, wire) = reader.ReadTag();
            if (field == NodeInput && wire == WireType.LengthDelimited) inputs.Add(reader.ReadString());
            else if (field == NodeOutput && wire == WireType.LengthDelimited) outputs.Add(reader.ReadString());
            else if (field == NodeOpType && wire == WireType.LengthDelimited) op = reader.ReadString();
            else reader.Skip(wire);
        }
        reader.ExpectPosition(end);
        return (op, inputs, outputs);
    }

    private static (string Name, List<long> Dims) ReadTensorDims(WireReader reader, long end)
    {
        var name = "";
        var dims = new List<long>();
        while (!reader.AtEnd(end))
        {
            var (field, wire) = reader.ReadTag();
            if (field == TensorName && wire == WireType.LengthDelimited) name = reader.ReadString();
            else if (field == TensorDims && wire == WireType.Varint) dims.Add((long)reader.ReadVarint());
            else if (field == TensorDims && wire == WireType.LengthDelimited)
            {
                var packedEnd = reader.ReadLengthEnd();
                while (!reader.AtEnd(packedEnd)) dims.Add((long)reader.ReadVarint());
            }
            else reader.Skip(wire);
        }
        reader.ExpectPosition(end);
        return (name, dims);
    }

    private static string Display(string path, string modelRoot) =>
        $"Model '{Path.GetFileName(Path.TrimEndingDirectorySeparator(modelRoot))}': " + Path.GetRelativePath(modelRoot, path).Replace('\\', '/');

    private static string Relative(string path, string modelRoot) => Path.GetRelativePath(modelRoot, path).Replace('\\', '/');

    private static List<(string, ExternalData)> ReadModel(WireReader reader, string display)
    {
        var result = new List<(string, ExternalData)>();
        var sawGraph = false;
        while (!reader.AtEnd(long.MaxValue))
        {
            var (field, wire) = reader.ReadTag();
            if (field == ModelGraph && wire == WireType.LengthDelimited)
            {
                sawGraph = true;
                var end = reader.ReadLengthEnd();
                ReadGraph(reader, end, result);
            }
            else reader.Skip(wire);
        }
        if (!sawGraph) throw new ModelFolderException($"{display} is not a valid ONNX model: it contains no graph.");
        return result;
    }

    private static void ReadGraph(WireReader reader, long end, List<(string, ExternalData)> result)
    {
        while (!reader.AtEnd(end))
        {
            var (field, wire) = reader.ReadTag();
            if (field == GraphInitializer && wire == WireType.LengthDelimited)
            {
                var tensorEnd = reader.ReadLengthEnd();
                var (name, data) = ReadTensor(reader, tensorEnd);
                if (data is not null) result.Add((name, data));
            }
            else reader.Skip(wire);
        }
        reader.ExpectPosition(end);
    }

    private static (string Name, ExternalData? Data) ReadTensor(WireReader reader, long end)
    {
        string name = "";
        ExternalData? data = null;
        while (!reader.AtEnd(end))
        {
            var (field, wire) = reader.ReadTag();
            if (field == TensorName && wire == WireType.LengthDelimited) name = reader.ReadString();
            else if (field == TensorExternalData && wire == WireType.LengthDelimited)
            {
                data ??= new ExternalData();
                var entryEnd = reader.ReadLengthEnd();
                string? key = null, value = null;
                while (!reader.AtEnd(entryEnd))
                {
                    var (f, w) = reader.ReadTag();
                    if (f == 1 && w == WireType.LengthDelimited) key = reader.ReadString();
                    else if (f == 2 && w == WireType.LengthDelimited) value = reader.ReadString();
                    else reader.Skip(w);
                }
                reader.ExpectPosition(entryEnd);
                switch (key)
                {
                    case "location": data.Location = value; break;
                    case "offset" when long.TryParse(value, out var o) && o >= 0: data.Offset = o; break;
                    case "length" when long.TryParse(value, out var l) && l >= 0: data.Length = l; break;
                }
            }
            else reader.Skip(wire);
        }
        reader.ExpectPosition(end);
        return (name, data);
    }

    private sealed class ExternalData
    {
        public string? Location;
        public long Offset;
        public long Length;
    }

    private enum WireType { Varint = 0, Fixed64 = 1, LengthDelimited = 2, StartGroup = 3, EndGroup = 4, Fixed32 = 5 }

    /// <summary>Protobuf wire-format reader over a seekable stream; any read past the end is reported as truncation.</summary>
    private sealed class WireReader(Stream stream)
    {
        private readonly long _length = stream.Length;

        public bool AtEnd(long end) => stream.Position >= Math.Min(end, _length);

        public (int Field, WireType Wire) ReadTag()
        {
            var tag = ReadVarint();
            var wire = (WireType)(tag & 7);
            var field = tag >> 3;
            if (field == 0 || field > int.MaxValue || wire is WireType.StartGroup or WireType.EndGroup || (int)wire > 5)
                throw new InvalidDataException($"unexpected protobuf tag {tag} at byte {stream.Position}");
            return ((int)field, wire);
        }

        public ulong ReadVarint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = stream.ReadByte();
                if (b < 0) throw Truncated();
                value |= (ulong)(b & 0x7f) << shift;
                if ((b & 0x80) == 0) return value;
            }
            throw new InvalidDataException($"malformed varint at byte {stream.Position}");
        }

        public long ReadLengthEnd()
        {
            var length = ReadVarint();
            if (length > (ulong)(_length - stream.Position)) throw Truncated();
            return stream.Position + (long)length;
        }

        public string ReadString()
        {
            var end = ReadLengthEnd();
            var bytes = new byte[end - stream.Position];
            stream.ReadExactly(bytes);
            return System.Text.Encoding.UTF8.GetString(bytes);
        }

        public void Skip(WireType wire)
        {
            switch (wire)
            {
                case WireType.Varint: ReadVarint(); break;
                case WireType.Fixed64: SeekTo(stream.Position + 8); break;
                case WireType.Fixed32: SeekTo(stream.Position + 4); break;
                case WireType.LengthDelimited: SeekTo(ReadLengthEnd()); break;
                default: throw new InvalidDataException($"unsupported wire type {wire}");
            }
        }

        public void ExpectPosition(long end)
        {
            if (stream.Position != end) throw new InvalidDataException($"a message overruns its declared length at byte {stream.Position}");
        }

        private void SeekTo(long position)
        {
            if (position > _length) throw Truncated();
            stream.Position = position;
        }

        private InvalidDataException Truncated() =>
            new($"the file ends in the middle of the model ({_length} bytes); it is truncated");
    }
}
