using SdBlazor.Engine.Tokenization;

namespace SdBlazor.Engine.Prompts;

/// <summary>
/// The textual-inversion files of the <c>embeddings</c> folder (recursively, as A1111 reads it). <c>.safetensors</c> files
/// are read once per (path, size, modification time); pickle files (<c>.pt</c>, <c>.bin</c>) are listed as skipped and
/// never opened, since unpickling runs code from the file.
/// </summary>
public sealed class EmbeddingLibrary(string folder)
{
    public const int MaxFiles = 5000;

    /// <summary>A1111 keeps embeddings in memory; so do we, but a folder of huge files must not fill it.</summary>
    public const long MaxFileBytes = 64L << 20;

    private static readonly string[] PickleExtensions = [".pt", ".bin", ".ckpt", ".pth"];
    private readonly Dictionary<string, (long Length, DateTime Written, TextualInversion? Embedding, string? Problem)> _cache = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    public string Folder { get; } = folder;

    /// <summary>Readable embeddings by name, and files that cannot be used (name → why).</summary>
    public (IReadOnlyList<TextualInversion> Embeddings, IReadOnlyDictionary<string, string> Problems) Scan()
    {
        var embeddings = new Dictionary<string, TextualInversion>(StringComparer.Ordinal);
        var problems = new SortedDictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (!Directory.Exists(Folder)) return ([], problems);
        var options = new EnumerationOptions { RecurseSubdirectories = true, MaxRecursionDepth = 8, IgnoreInaccessible = true };
        var files = Directory.EnumerateFiles(Folder, "*", options).Take(MaxFiles).Order(StringComparer.Ordinal).ToList();
        lock (_lock)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var path in files)
            {
                var extension = Path.GetExtension(path).ToLowerInvariant();
                var name = Path.GetFileNameWithoutExtension(path);
                if (PickleExtensions.Contains(extension))
                {
                    problems[name] = $"{Path.GetFileName(path)} is a pickle file: SdBlazor never unpickles files (they can run code); convert it to .safetensors.";
                    continue;
                }
                if (extension != ".safetensors") continue;
                seen.Add(path);
                var (embedding, problem) = Load(path);
                if (embedding is null) problems[name] = problem!;
                else if (!embeddings.TryAdd(name, embedding)) problems[name + " (" + Path.GetRelativePath(Folder, path) + ")"] = $"another embedding is already named '{name}'.";
            }
            foreach (var stale in _cache.Keys.Where(k => !seen.Contains(k)).ToList()) _cache.Remove(stale);
        }
        return (embeddings.Values.OrderBy(e => e.Name, StringComparer.Ordinal).ToList(), problems);
    }

    /// <summary>The embeddings a prompt can use with a text encoder whose tokens are <paramref name="width"/> wide.</summary>
    /// <param name="encoderKey">"" for SD 1.x/2.x encoders, <see cref="TextualInversion.ClipL"/>/<see cref="TextualInversion.ClipG"/> for SDXL's.</param>
    public EmbeddingLookup Lookup(ClipTokenizer tokenizer, string encoderKey, int width)
    {
        var (embeddings, _) = Scan();
        return embeddings.Count == 0 ? EmbeddingLookup.Empty : new EmbeddingLookup(tokenizer, embeddings, encoderKey, width);
    }

    private (TextualInversion?, string?) Load(string path)
    {
        var info = new FileInfo(path);
        if (_cache.TryGetValue(path, out var cached) && cached.Length == info.Length && cached.Written == info.LastWriteTimeUtc)
            return (cached.Embedding, cached.Problem);
        TextualInversion? embedding = null;
        string? problem = null;
        if (info.Length > MaxFileBytes) problem = $"{info.Length} bytes; an embedding is a few KB (at most {MaxFileBytes >> 20} MB accepted). Is this a LoRA or a checkpoint?";
        else
        {
            try
            {
                embedding = TextualInversion.Read(path);
            }
            catch (EmbeddingException ex)
            {
                problem = ex.Message;
            }
        }
        _cache[path] = (info.Length, info.LastWriteTimeUtc, embedding, problem);
        return (embedding, problem);
    }
}

/// <summary>
/// A1111's <c>EmbeddingDatabase.ids_lookup</c>: embeddings indexed by the first token of their tokenized name, longest
/// names first, so the prompt's tokens are matched against whole token sequences (matching is thus as case-insensitive
/// as the tokenizer). Embeddings of another width stay in the table so the prompt can say it named one (A1111 silently
/// treats them as words).
/// </summary>
public sealed class EmbeddingLookup
{
    public static EmbeddingLookup Empty { get; } = new();

    private readonly Dictionary<int, List<(int[] Ids, TextualInversion Embedding, float[]? Vectors)>> _byFirstId = [];
    private readonly SortedDictionary<string, int> _wrongWidth = new(StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly int _width;

    private EmbeddingLookup() { }

    internal EmbeddingLookup(ClipTokenizer tokenizer, IEnumerable<TextualInversion> embeddings, string encoderKey, int width)
    {
        _width = width;
        foreach (var embedding in embeddings)
        {
            var ids = tokenizer.EncodeTokens(embedding.Name).ToArray();
            if (ids.Length == 0) continue;
            if (!_byFirstId.TryGetValue(ids[0], out var list)) _byFirstId[ids[0]] = list = [];
            list.Add((ids, embedding, embedding.VectorsFor(encoderKey, width)));
        }
        foreach (var list in _byFirstId.Values) list.Sort((a, b) => b.Ids.Length.CompareTo(a.Ids.Length));
    }

    public bool IsEmpty => _byFirstId.Count == 0;

    /// <summary>Names of embeddings the prompts used (for the infotext and logs).</summary>
    public IReadOnlyCollection<string> Used => _used;

    /// <summary>Names written in a prompt whose embedding does not fit this model's text encoder.</summary>
    public IReadOnlyCollection<string> WrongWidth => _wrongWidth.Keys;

    /// <summary>
    /// The embedding whose name's tokens start at <paramref name="position"/>, and how many prompt tokens the name took;
    /// null when none (or only one of another width) matches there.
    /// </summary>
    public (TextualInversion Embedding, float[] Vectors, int NameLength)? Match(IReadOnlyList<int> tokens, int position)
    {
        if (!_byFirstId.TryGetValue(tokens[position], out var candidates)) return null;
        foreach (var (ids, embedding, vectors) in candidates)
        {
            if (position + ids.Length > tokens.Count) continue;
            var same = true;
            for (var k = 1; k < ids.Length && same; k++) same = tokens[position + k] == ids[k];
            if (!same) continue;
            if (vectors is null)
            {
                _wrongWidth[embedding.Name] = embedding.Shape;
                continue;
            }
            _used.Add(embedding.Name);
            return (embedding, vectors, ids.Length);
        }
        return null;
    }

    /// <summary>The warning for names of unusable embeddings, or null.</summary>
    public string? WrongWidthWarning() => _wrongWidth.Count == 0 ? null
        : $"Embedding(s) {string.Join(", ", _wrongWidth.Select(e => $"'{e.Key}' ({e.Value} wide)"))} were made for another model (this text encoder's tokens are {_width} wide): the name was read as ordinary words.";
}
