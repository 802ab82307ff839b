using System.Diagnostics;
using System.Globalization;
using SdBlazor.Gallery.Bench;
using SdBlazor.Web.Gallery;

// Gallery benchmark: seeds N images through the real store (PNG files + LiteDB index + thumbnails) and times
// the queries the gallery page makes. Usage: SdBlazor.Gallery.Bench [--sizes 1000,100000] [--dir PATH] [--image 64]
var sizes = Arg("--sizes", "1000,100000").Split(',').Select(int.Parse).ToArray();
var root = Arg("--dir", Path.Combine(Path.GetTempPath(), "sdblazor-gallery-bench"));
var imageSide = int.Parse(Arg("--image", "64"), CultureInfo.InvariantCulture);
var keep = args.Contains("--keep");

var results = new List<BenchResult>();
foreach (var count in sizes)
{
    var dir = Path.Combine(root, count.ToString(CultureInfo.InvariantCulture));
    if (Directory.Exists(dir) && !keep) Directory.Delete(dir, recursive: true);
    results.Add(await GalleryBench.RunAsync(dir, count, imageSide, Console.Out));
}

if (results.Count >= 2)
{
    var small = results[0];
    var large = results[^1];
    Console.WriteLine();
    Console.WriteLine($"ratio page time {large.Count:N0}/{small.Count:N0}: first page {large.FirstPageMs / small.FirstPageMs:0.00}, later page {large.LaterPageMs / small.LaterPageMs:0.00}, search {large.SearchMs / small.SearchMs:0.00}, model filter {large.ModelFilterMs / small.ModelFilterMs:0.00}");
}
return;

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
