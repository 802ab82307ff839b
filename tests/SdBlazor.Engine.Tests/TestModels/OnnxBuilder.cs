using Google.Protobuf;
using Onnx;

namespace SdBlazor.Engine.Tests.TestModels;

/// <summary>Builds small ONNX graphs in code (OnnxSharp's protobuf classes) so tests run real ONNX Runtime sessions without weights.</summary>
public sealed class OnnxBuilder
{
    public const int Float = 1, Int32Type = 6, Int64Type = 7, Float16 = 10;

    private readonly GraphProto _graph = new() { Name = "tiny" };
    private int _counter;

    /// <param name="dims">ints for fixed sizes, strings for symbolic ones; empty for a scalar.</param>
    public OnnxBuilder Input(string name, int elemType, params object[] dims)
    {
        _graph.Input.Add(ValueInfo(name, elemType, dims));
        return this;
    }

    public OnnxBuilder Output(string name, int elemType, params object[] dims)
    {
        _graph.Output.Add(ValueInfo(name, elemType, dims));
        return this;
    }

    public string Node(string op, string[] inputs, params (string Name, object Value)[] attributes)
    {
        var output = $"{op.ToLowerInvariant()}_{_counter++}";
        NodeTo(op, inputs, output, attributes);
        return output;
    }

    public void NodeTo(string op, string[] inputs, string output, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op, Name = $"n{_counter++}" };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        foreach (var (name, value) in attributes)
        {
            var attribute = new AttributeProto { Name = name };
            switch (value)
            {
                case long l: attribute.Type = AttributeProto.Types.AttributeType.Int; attribute.I = l; break;
                case int i: attribute.Type = AttributeProto.Types.AttributeType.Int; attribute.I = i; break;
                case float f: attribute.Type = AttributeProto.Types.AttributeType.Float; attribute.F = f; break;
                case string s: attribute.Type = AttributeProto.Types.AttributeType.String; attribute.S = ByteString.CopyFromUtf8(s); break;
                case long[] ls: attribute.Type = AttributeProto.Types.AttributeType.Ints; attribute.Ints.AddRange(ls); break;
                default: throw new ArgumentException($"attribute type {value.GetType()}");
            }
            node.Attribute.Add(attribute);
        }
        _graph.Node.Add(node);
    }

    public string FloatConstant(float[] values, params long[] dims)
    {
        var name = $"c{_counter++}";
        var tensor = new TensorProto { Name = name, DataType = Float };
        tensor.Dims.AddRange(dims);
        tensor.FloatData.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    public string LongConstant(params long[] values)
    {
        var name = $"c{_counter++}";
        var tensor = new TensorProto { Name = name, DataType = Int64Type };
        tensor.Dims.Add(values.Length);
        tensor.Int64Data.AddRange(values);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An initializer whose bytes live in an external file at <paramref name="location"/> (relative to the model file, or anything a test wants to try).</summary>
    public string ExternalFloatInitializer(string location, long offset, long length, params long[] dims)
    {
        var name = $"ext{_counter++}";
        var tensor = new TensorProto { Name = name, DataType = Float, DataLocation = TensorProto.Types.DataLocation.External };
        tensor.Dims.AddRange(dims);
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        tensor.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString() });
        _graph.Initializer.Add(tensor);
        return name;
    }

    public byte[] ToBytes(int opset = 17)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "SdBlazor.Engine.Tests", Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model.ToByteArray();
    }

    public void Save(string path, int opset = 17)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, ToBytes(opset));
    }

    private static ValueInfoProto ValueInfo(string name, int elemType, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
        {
            shape.Dim.Add(dim switch
            {
                int i => new TensorShapeProto.Types.Dimension { DimValue = i },
                string s => new TensorShapeProto.Types.Dimension { DimParam = s },
                _ => throw new ArgumentException($"dimension {dim}"),
            });
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = elemType, Shape = shape } },
        };
    }
}
