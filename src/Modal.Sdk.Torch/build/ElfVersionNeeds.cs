// Compiled twice: by MSBuild's RoslynCodeTaskFactory as the MarkVersionNeedsWeak task (Modal.Sdk.Torch.targets), and
// into the unit tests. It has no package dependencies because an inline task can have none.
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace Modal.Torch.Build;

/// <summary>
/// Marks symbol-version requirements weak in the ELF files given (<c>VER_FLG_WEAK</c> in <c>.gnu.version_r</c>), so
/// the dynamic loader accepts a library that lacks the version. TorchSharp 0.107's <c>libLibTorchSharp.so</c> needs
/// <c>GLIBCXX_3.4.32</c> (GCC 13's libstdc++) only for the marker <c>std::ios_base_library_init()</c>, which nothing
/// calls; Debian 12 has 3.4.30, and without this the library does not load there.
/// </summary>
public sealed class MarkVersionNeedsWeak : Microsoft.Build.Utilities.Task
{
    /// <summary>The ELF files to patch (in place: each is replaced by a patched copy, never written through).</summary>
    [Required]
    public ITaskItem[] Files { get; set; } = Array.Empty<ITaskItem>();

    /// <summary>The version names to mark weak, separated by semicolons.</summary>
    [Required]
    public string Versions { get; set; } = "";

    /// <summary>The only symbols that may need those versions (semicolons): a file where another one does is left alone, with a warning.</summary>
    [Required]
    public string AllowedSymbols { get; set; } = "";

    public override bool Execute()
    {
        var versions = Split(Versions);
        var allowed = Split(AllowedSymbols);
        foreach (var item in Files)
        {
            var path = item.ItemSpec;
            try
            {
                var result = ElfVersionNeeds.MarkWeak(path, versions, allowed);
                Log.LogMessage(MessageImportance.Low, "{0}: {1}", path, result);
            }
            catch (InvalidDataException e)
            {
                Log.LogWarning("{0} was not patched: {1}", path, e.Message);
            }
        }
        return !Log.HasLoggedErrors;
    }

    // An inline task compiles against netstandard, which has no Split(char, StringSplitOptions).
    private static readonly char[] Separator = [';'];

    private static HashSet<string> Split(string list) =>
        new HashSet<string>(list.Split(Separator, StringSplitOptions.RemoveEmptyEntries).Select(s => s.Trim()), StringComparer.Ordinal);
}

/// <summary>Reads and flips the weak flag of version needs in a 64-bit little-endian ELF file (x86-64, arm64).</summary>
public static class ElfVersionNeeds
{
    private const uint VersionNeedSection = 0x6ffffffe, VersionSymbolSection = 0x6fffffff, DynamicSymbolSection = 11;
    private const ushort WeakFlag = 0x2;

    /// <summary>A version need: its library, its name, its index in <c>.gnu.version</c> and whether it is weak.</summary>
    public sealed class Need
    {
        public Need(string library, string version, int index, bool weak, int flagsOffset)
        {
            Library = library;
            Version = version;
            Index = index;
            Weak = weak;
            FlagsOffset = flagsOffset;
        }

        public string Library { get; }
        public string Version { get; }
        public int Index { get; }
        public bool Weak { get; }
        internal int FlagsOffset { get; }
    }

    /// <summary>Every version need of <paramref name="elf"/>.</summary>
    public static IReadOnlyList<Need> Read(byte[] elf)
    {
        var sections = Sections(elf);
        var verneed = sections.FirstOrDefault(s => s.Type == VersionNeedSection)
            ?? throw new InvalidDataException("it has no .gnu.version_r section");
        var strings = sections[(int)verneed.Link];
        var needs = new List<Need>();
        var offset = (int)verneed.Offset;
        for (var i = 0; i < verneed.Info; i++)
        {
            var count = U16(elf, offset + 2);
            var library = String(elf, strings, U32(elf, offset + 4));
            var aux = offset + (int)U32(elf, offset + 8);
            for (var j = 0; j < count; j++)
            {
                var flags = U16(elf, aux + 4);
                needs.Add(new Need(library, String(elf, strings, U32(elf, aux + 8)), U16(elf, aux + 6), (flags & WeakFlag) != 0, aux + 4));
                aux += (int)U32(elf, aux + 12);
            }
            offset += (int)U32(elf, offset + 12);
        }
        return needs;
    }

    /// <summary>The dynamic symbols bound to version index <paramref name="index"/>.</summary>
    public static IReadOnlyList<string> SymbolsNeeding(byte[] elf, int index)
    {
        var sections = Sections(elf);
        var dynsym = sections.First(s => s.Type == DynamicSymbolSection);
        var versym = sections.First(s => s.Type == VersionSymbolSection);
        var strings = sections[(int)dynsym.Link];
        var symbols = new List<string>();
        var count = (int)(dynsym.Size / 24);
        for (var i = 0; i < count; i++)
        {
            if ((U16(elf, (int)versym.Offset + (2 * i)) & 0x7fff) == index)
            {
                symbols.Add(String(elf, strings, U32(elf, (int)dynsym.Offset + (24 * i))));
            }
        }
        return symbols;
    }

    /// <summary>
    /// Marks the needs of <paramref name="path"/> named in <paramref name="versions"/> weak, when only symbols of
    /// <paramref name="allowedSymbols"/> use them; says what it did. The file is replaced, not written through, so a
    /// hard link to a package cache is never patched.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a 64-bit little-endian ELF file, or another symbol needs the version.</exception>
    public static string MarkWeak(string path, ICollection<string> versions, ICollection<string> allowedSymbols)
    {
        var elf = File.ReadAllBytes(path);
        var targets = Read(elf).Where(n => versions.Contains(n.Version)).ToList();
        if (targets.Count == 0)
        {
            return "no such version needed";
        }
        if (targets.All(n => n.Weak))
        {
            return "already weak";
        }
        foreach (var need in targets)
        {
            var users = SymbolsNeeding(elf, need.Index).Where(s => !allowedSymbols.Contains(s)).ToList();
            if (users.Count > 0)
            {
                throw new InvalidDataException($"{need.Version} is needed by {string.Join(", ", users)} too, which would fail at run time");
            }
            var flags = (ushort)(U16(elf, need.FlagsOffset) | WeakFlag);
            elf[need.FlagsOffset] = (byte)flags;
            elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
        }
        var temporary = path + ".weak-versions";
        File.WriteAllBytes(temporary, elf);
        File.Delete(path);
        File.Move(temporary, path);
        return "marked weak: " + string.Join(", ", targets.Select(n => n.Version));
    }

    private sealed class Section
    {
        public uint Type;
        public ulong Offset, Size;
        public uint Link, Info;
    }

    private static List<Section> Sections(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
        {
            throw new InvalidDataException("it is not an ELF file");
        }
        if (elf[4] != 2 || elf[5] != 1)
        {
            throw new InvalidDataException("it is not a 64-bit little-endian ELF file");
        }
        var table = (long)U64(elf, 0x28);
        var size = U16(elf, 0x3a);
        var count = U16(elf, 0x3c);
        var sections = new List<Section>(count);
        for (var i = 0; i < count; i++)
        {
            var at = (int)(table + ((long)i * size));
            sections.Add(new Section
            {
                Type = U32(elf, at + 4), Offset = U64(elf, at + 0x18), Size = U64(elf, at + 0x20), Link = U32(elf, at + 0x28), Info = U32(elf, at + 0x2c),
            });
        }
        return sections;
    }

    private static string String(byte[] elf, Section table, uint offset)
    {
        var start = (int)(table.Offset + offset);
        var end = Array.IndexOf(elf, (byte)0, start);
        return Encoding.ASCII.GetString(elf, start, end - start);
    }

    private static ushort U16(byte[] b, int at) => (ushort)(b[at] | (b[at + 1] << 8));

    private static uint U32(byte[] b, int at) => (uint)(b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24));

    private static ulong U64(byte[] b, int at) => U32(b, at) | ((ulong)U32(b, at + 4) << 32);
}
