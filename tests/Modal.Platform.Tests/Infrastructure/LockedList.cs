using System.Diagnostics;

namespace Modal.Platform.Tests.Infrastructure;

/// <summary>
/// A list of spans an in-memory exporter may add to from any thread while a test reads it: every access takes the list's
/// lock, so a test that locks it too reads a consistent copy.
/// </summary>
internal sealed class LockedList(List<Activity> inner) : ICollection<Activity>
{
    public int Count { get { lock (inner) { return inner.Count; } } }
    public bool IsReadOnly => false;
    public void Add(Activity item) { lock (inner) { inner.Add(item); } }
    public void Clear() { lock (inner) { inner.Clear(); } }
    public bool Contains(Activity item) { lock (inner) { return inner.Contains(item); } }
    public void CopyTo(Activity[] array, int arrayIndex) { lock (inner) { inner.CopyTo(array, arrayIndex); } }
    public bool Remove(Activity item) { lock (inner) { return inner.Remove(item); } }
    public IEnumerator<Activity> GetEnumerator() { lock (inner) { return inner.ToList().GetEnumerator(); } }
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
