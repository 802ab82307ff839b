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

    /// <summary>
    /// SDXL conditioning from this encoder: <c>hidden_states[-2]</c> (the penultimate layer, the highest-but-one
    /// <c>hidden_states.N</c> output of the export) and, when <paramref name="pooledOutput"/> is given, that output
    /// (<c>text_embeds</c>, the projected pooled embedding of OpenCLIP bigG).
    /// </summary>
    public float[] EncodePenultimate(IReadOnlyList<int> ids, string? pooledOutput, RunOptions runOptions, out int hidden, out float[]? pooled)
    {
        var penultimate = PenultimateOutput;
        if (pooledOutput is not null && !session.OutputNames.Contains(pooledOutput))
            throw new NotSupportedException($"{session.Role}: the model has no output '{pooledOutput}' (it has: {string.Join(", ", session.OutputNames)}).");
        long[] shape = [1, ids.Count];
        using var input = _idType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(ids.Select(i => (long)i).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(ids.ToArray(), shape);
        string[] names = pooledOutput is null ? [penultimate] : [penultimate, pooledOutput];
        using var outputs = session.Session.Run(runOptions, [_inputName], [input], names);
        var result = OnnxSession.ReadFloats(outputs[0], out var outShape);
        if (outShape.Length != 3 || outShape[0] != 1 || outShape[1] != ids.Count)
            throw new NotSupportedException($"{session.Role}: output '{penultimate}' has shape [{string.Join(", ", outShape)}]; expected [1, {ids.Count}, hidden].");
        hidden = (int)outShape[2];
        pooled = null;
        if (pooledOutput is not null)
        {
            pooled = OnnxSession.ReadFloats(outputs[1], out var pooledShape);
            if (pooledShape.Length != 2 || pooledShape[0] != 1)
                throw new NotSupportedException($"{session.Role}: output '{pooledOutput}' has shape [{string.Join(", ", pooledShape)}]; expected [1, width].");
        }
        return result;
    }

    /// <summary><c>hidden_states.{N−1}</c> where N is the highest index exported (N = number of layers: index 0 is the embeddings).</summary>
    public string PenultimateOutput
    {
        get
        {
            var indices = session.OutputNames
                .Select(n => n.StartsWith("hidden_states.", StringComparison.Ordinal) && int.TryParse(n.AsSpan("hidden_states.".Length), out var i) ? i : -1)
                .Where(i => i >= 0).ToList();
            if (indices.Count < 2)
                throw new NotSupportedException($"{session.Role}: SDXL needs the per-layer outputs 'hidden_states.0' … 'hidden_states.N' (export with output_hidden_states); the model has: {string.Join(", ", session.OutputNames)}.");
            return "hidden_states." + (indices.Max() - 1);
        }
    }
}
