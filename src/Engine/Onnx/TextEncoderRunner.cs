using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SdBlazor.Engine.Onnx;

/// <summary>CLIP text encoder: <c>input_ids</c> [1, 77] (int32 or int64) → <c>last_hidden_state</c> [1, 77, hidden].</summary>
public sealed class TextEncoderRunner(OnnxSession session)
{
    private readonly string _inputName = session.InputName("input_ids", 0);
    private readonly string _outputName = session.OutputName("last_hidden_state", 0);
    private readonly TensorElementType _idType = session.RequireType(session.InputName("input_ids", 0), TensorElementType.Int32, TensorElementType.Int64);

    public OnnxSession Session => session;

    /// <returns>Hidden states of one prompt, [tokens × hidden] flattened; <paramref name="hidden"/> is the embedding width.</returns>
    public float[] Encode(IReadOnlyList<int> ids, RunOptions runOptions, out int hidden)
    {
        long[] shape = [1, ids.Count];
        using var input = _idType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(ids.Select(i => (long)i).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(ids.ToArray(), shape);
        using var outputs = session.Session.Run(runOptions, [_inputName], [input], [_outputName]);
        var result = OnnxSession.ReadFloats(outputs[0], out var outShape);
        if (outShape.Length != 3 || outShape[0] != 1 || outShape[1] != ids.Count)
            throw new NotSupportedException($"text_encoder: output '{_outputName}' has shape [{string.Join(", ", outShape)}]; expected [1, {ids.Count}, hidden].");
        hidden = (int)outShape[2];
        return result;
    }
}
