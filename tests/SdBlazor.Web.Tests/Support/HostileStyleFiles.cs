using System.Text;

namespace SdBlazor.Web.Tests.Support;

/// <summary>
/// styles.csv files an owner may end up with (pasted together from shared collections, a broken export, the wrong
/// file renamed): each written for real, as the app will find it in its data folder.
/// </summary>
public static class HostileStyleFiles
{
    public const string Header = "name,prompt,negative_prompt\n";

    public static void Huge(string path, long bytes)
    {
        using var file = new StreamWriter(path, false, new UTF8Encoding(false));
        file.Write(Header);
        var line = "Style,\"masterpiece, best quality, {prompt}\",\"lowres, bad anatomy\"\n";
        for (long written = Header.Length; written < bytes; written += line.Length) file.Write(line);
    }

    /// <summary>Two usable styles around one whose prompt is millions of characters long.</summary>
    public static void HugeField(string path, int length) =>
        File.WriteAllText(path, Header + "Good,\"good prompt, {prompt}\",\n" + "Giant,\"" + new string('a', length) + "\",\n" + "Also good,x,y\n", new UTF8Encoding(false));

    /// <summary>A stray quote inside an unquoted field, then a quote that is never closed and swallows the rest of the file.</summary>
    public static void BrokenQuoting(string path)
    {
        var rest = string.Concat(Enumerable.Range(0, 400).Select(i => $"Lost {i},prompt {i},\n"));
        File.WriteAllText(path, Header + "First,\"ok {prompt}\",\n" + "Stray,a \"quoted\" word,\n" + "Broken,\"unclosed, runs on\n" + rest, new UTF8Encoding(false));
    }

    /// <summary>Random bytes after a valid header (a damaged copy), or with no header at all (the wrong file).</summary>
    public static void BinaryJunk(string path, int bytes, bool withHeader)
    {
        var junk = new byte[bytes];
        new Random(30).NextBytes(junk);
        using var file = File.Create(path);
        if (withHeader) file.Write(Encoding.UTF8.GetBytes(Header + "Clean,\"clean prompt\",\n"));
        file.Write(junk);
    }

    public static void Many(string path, int count)
    {
        var text = new StringBuilder(Header);
        for (var i = 1; i <= count; i++) text.Append($"Style {i:D6},\"style {i} of {{prompt}}\",\n");
        File.WriteAllText(path, text.ToString(), new UTF8Encoding(false));
    }
}
