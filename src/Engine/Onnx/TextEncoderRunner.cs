using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Onnx;

namespace SdBlazor.Engine.Onnx;

/// <summary>
/// CLIP text encoder: <c>input_ids</c> [1, 77] (int32 or int64) → <c>last_hidden_state</c> [1, 77, hidden].
/// Clip skip (A1111's <c>CLIP_stop_at_last_layers</c> N > 1) and textual-inversion vectors run a second session of the
/// same graph with <see cref="ClipSkipGraph"/>'s outputs and <see cref="EmbeddingInputsGraph"/>'s inputs added, created
/// on first use (one edited session for both, so using both costs one extra copy of the weights, not two): the plain
/// session stays exactly as exported, so requests without either give the same numbers as before.
/// </summary>
/// <param name="clipSkipSession">Creates a session of the edited graph (bytes of the edited model); null: clip skip and embeddings unavailable.</param>
public sealed class TextEncoderRunner(OnnxSession session, Func<byte[], OnnxSession>? clipSkipSession = null) : IDisposable
{
    private readonly string _inputName = session.InputName("input_ids", 0);
    private readonly string _outputName = session.OutputName("last_hidden_state", 0);
    private readonly TensorElementType _idType = session.RequireType(session.InputName("input_ids", 0), TensorElementType.Int32, TensorElementType.Int64);
    private readonly object _lock = new();
    private OnnxSession? _skipSession;
    private int _layers;
    private int _embeddingWidth;
    private string? _clipSkipProblem, _embeddingProblem;

    public OnnxSession Session => session;

    /// <summary>Encoder layers, once a clip-skip session exists (0 before).</summary>
    public int Layers => _layers;

    /// <returns>Hidden states of one prompt, [tokens × hidden] flattened; <paramref name="hidden"/> is the embedding width.</returns>
    public float[] Encode(IReadOnlyList<int> ids, RunOptions runOptions, out int hidden) => Encode(ids, runOptions, 1, out hidden);

    /// <param name="clipSkip">1: the last layer; N: final_layer_norm(hidden_states[-N]), clamped to the encoder's layer count.</param>
    public float[] Encode(IReadOnlyList<int> ids, RunOptions runOptions, int clipSkip, out int hidden) =>
        Encode(ids, runOptions, clipSkip, null, out hidden);

    /// <param name="fixes">Vectors that replace the token embeddings at their positions (textual inversion); null: none.</param>
    /// <exception cref="NotSupportedException">The graph cannot take them (or has no clip-skip outputs, when asked for).</exception>
    public float[] Encode(IReadOnlyList<int> ids, RunOptions runOptions, int clipSkip, IReadOnlyList<Prompts.EmbeddingFix>? fixes, out int hidden)
    {
        var (target, output) = (session, _outputName);
        var inject = fixes is { Count: > 0 };
        if (clipSkip > 1 || inject)
        {
            target = EditedSession();
            if (clipSkip > 1)
            {
                if (_clipSkipProblem is not null) throw new NotSupportedException(_clipSkipProblem);
                output = ClipSkipGraph.OutputName(Math.Min(clipSkip, _layers));
            }
        }
        long[] shape = [1, ids.Count];
        using var input = _idType == TensorElementType.Int64
            ? OrtValue.CreateTensorValueFromMemory(ids.Select(i => (long)i).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(ids.ToArray(), shape);
        var names = new List<string> { _inputName };
        var values = new List<OrtValue> { input };
        try
        {
            if (target != session && _embeddingProblem is null)
            {
                var (vectors, mask) = Injection(ids.Count, fixes);
                names.Add(EmbeddingInputsGraph.ValuesInput);
                values.Add(OrtValue.CreateTensorValueFromMemory(vectors, [1, ids.Count, _embeddingWidth]));
                names.Add(EmbeddingInputsGraph.MaskInput);
                values.Add(OrtValue.CreateTensorValueFromMemory(mask, [1, ids.Count, 1]));
            }
            else if (inject) throw new NotSupportedException(_embeddingProblem);
            return Run(target, runOptions, names, values, output, ids.Count, out hidden);
        }
        finally
        {
            foreach (var value in values.Skip(1)) value.Dispose();
        }
    }

    /// <summary>Width the token table of this encoder has (what an embedding's vectors must match); creates the edited session.</summary>
    /// <exception cref="NotSupportedException">Embeddings cannot be injected into this graph.</exception>
    public int EmbeddingWidth
    {
        get
        {
            EditedSession();
            return _embeddingProblem is null ? _embeddingWidth : throw new NotSupportedException(_embeddingProblem);
        }
    }

    private (float[] Vectors, bool[] Mask) Injection(int tokens, IReadOnlyList<Prompts.EmbeddingFix>? fixes)
    {
        var vectors = new float[tokens * _embeddingWidth];
        var mask = new bool[tokens];
        foreach (var fix in fixes ?? [])
        {
            if (fix.Vectors.Length != fix.Count * _embeddingWidth)
                throw new NotSupportedException($"Embedding '{fix.Name}': {fix.Vectors.Length / Math.Max(1, fix.Count)} values per vector; this text encoder's tokens are {_embeddingWidth} wide.");
            // A1111 EmbeddingsWithFixes: vectors that would run past the window are cut off.
            var count = Math.Min(fix.Count, tokens - fix.Position);
            if (fix.Position < 0 || count <= 0) continue;
            fix.Vectors.AsSpan(0, count * _embeddingWidth).CopyTo(vectors.AsSpan(fix.Position * _embeddingWidth));
            mask.AsSpan(fix.Position, count).Fill(true);
        }
        return (vectors, mask);
    }

    /// <summary>The hidden width of the last output (null before the first run): for CLIP, the token width too.</summary>
    public int? KnownHidden { get; private set; }

    private float[] Run(OnnxSession target, RunOptions runOptions, List<string> names, List<OrtValue> values, string output, int tokens, out int hidden)
    {
        using var outputs = target.Session.Run(runOptions, names, values, [output]);
        var result = OnnxSession.ReadFloats(outputs[0], out var outShape);
        if (outShape.Length != 3 || outShape[0] != 1 || outShape[1] != tokens)
            throw new NotSupportedException($"text_encoder: output '{output}' has shape [{string.Join(", ", outShape)}]; expected [1, {tokens}, hidden].");
        hidden = (int)outShape[2];
        KnownHidden = hidden;
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
        KnownHidden = hidden;
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

    private OnnxSession EditedSession()
    {
        lock (_lock)
        {
            if (_skipSession is not null) return _skipSession;
            if (clipSkipSession is null) throw new NotSupportedException($"{session.Role}: clip skip and embeddings are not available for this model.");
            var model = ModelProto.Parser.ParseFrom(File.ReadAllBytes(session.ModelPath));
            // Each edit may fail on its own (an export without a recognisable structure); the other feature still works.
            try
            {
                var layers = ClipSkipGraph.AddOutputs(model, _outputName);
                if (layers < 2) _clipSkipProblem = $"{session.Role}: {layers} layer(s); clip skip needs at least 2.";
                _layers = layers;
            }
            catch (NotSupportedException ex)
            {
                _clipSkipProblem = ex.Message;
            }
            try
            {
                _embeddingWidth = EmbeddingInputsGraph.AddInputs(model, _inputName);
            }
            catch (NotSupportedException ex)
            {
                _embeddingProblem = ex.Message;
            }
            _skipSession = clipSkipSession(Google.Protobuf.MessageExtensions.ToByteArray(model));
            return _skipSession;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _skipSession?.Dispose();
            _skipSession = null;
        }
    }
}
