import fc from 'fast-check'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { InvalidOptionError } from '../index.js'
import { withFields } from './fields.js'

describe('withFields()', () => {
  it('adds a comma-separated `fields` parameter, deduplicated and sorted', () => {
    expect(withFields('https://api.example/users/1', ['name', 'id', 'address.city', 'id'])).toBe(
      'https://api.example/users/1?fields=address.city,id,name',
    )
  })

  it('gives one URL for any order or repetition of the same fields (stable cache keys)', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_.]{0,6}$/)
    fc.assert(
      fc.property(
        fc.uniqueArray(name, { minLength: 1, maxLength: 8 }),
        fc.infiniteStream(fc.nat()),
        (fields, picks) => {
          const shuffled = [...fields, ...fields.slice(0, 2)]
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = picks.next().value % (i + 1)
            ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
          }
          const url = withFields('/users', shuffled)
          expect(url).toBe(withFields('/users', fields))
          expect(new URL(url, 'http://x').searchParams.get('fields')!.split(',')).toEqual(
            [...fields].sort(),
          )
        },
      ),
    )
  })

  it('keeps the rest of the URL byte for byte and replaces a parameter of the same name', () => {
    const signed = '/files/a?X-Amz-Signature=ab%2Fcd%3D&fields=old&b=x+y&fields=older#top'
    expect(withFields(signed, ['size'])).toBe(
      '/files/a?X-Amz-Signature=ab%2Fcd%3D&b=x+y&fields=size#top',
    )
    expect(withFields('/a?', ['x'])).toBe('/a?fields=x')
    expect(withFields('relative', ['x'])).toBe('relative?fields=x')
  })

  it('returns a new URL for a URL, leaving the original alone', () => {
    const original = new URL('https://api.example/items?q=1#h')
    const withSelection = withFields(original, ['id'])
    expectTypeOf(withSelection).toEqualTypeOf<URL>()
    expectTypeOf(withFields('/a', ['id'])).toEqualTypeOf<string>()
    expect(withSelection.href).toBe('https://api.example/items?q=1&fields=id#h')
    expect(original.href).toBe('https://api.example/items?q=1#h')
  })

  it("the 'repeat' style and another parameter name", () => {
    expect(withFields('/users', ['b', 'a'], { style: 'repeat', param: 'select' })).toBe(
      '/users?select=a&select=b',
    )
    expect(withFields('/users?select=z', ['a'], { param: 'select' })).toBe('/users?select=a')
  })

  it('JSON:API sparse fieldsets per type: fields[type]=…, types sorted, brackets encoded', () => {
    const url = withFields('/articles?include=author', {
      people: ['name'],
      articles: ['title', 'body', 'title'],
    })
    expect(url).toBe(
      '/articles?include=author&fields%5Barticles%5D=body,title&fields%5Bpeople%5D=name',
    )
    expect(new URL(url, 'http://x').searchParams.get('fields[articles]')).toBe('body,title')
    // An empty list for a type asks for none of its fields; an existing selection for it is replaced.
    expect(withFields('/articles?fields[people]=email', { people: [] })).toBe(
      '/articles?fields%5Bpeople%5D=',
    )
    expect(() => withFields('/articles', { people: [] }, { style: 'repeat' })).toThrow(
      /cannot express/,
    )
  })

  it('refuses field names that could inject another parameter or field', () => {
    for (const bad of [
      'a,b',
      'a&admin=true',
      'a=b',
      'a b',
      'a#b',
      'a?b',
      'a[b]',
      'a%2Cb',
      '',
      'a\r\nb',
      'é',
    ]) {
      expect(() => withFields('/u', [bad]), bad).toThrow(InvalidOptionError)
    }
    expect(() => withFields('/u', ['ok', 'a&admin=true'])).toThrow(
      /field name "a&admin=true" in `fields` is not allowed/,
    )
    expect(() => withFields('/u', { 'a&b': ['x'] })).toThrow(/type "a&b" is not allowed/)
    expect(() => withFields('/u', [1 as unknown as string])).toThrow(InvalidOptionError)
    expect(withFields('/u', ['a_b-c.d/e:f@g$h*~'])).toBe('/u?fields=a_b-c.d/e:f@g$h*~')
  })

  it('L4: validates its options and arguments', () => {
    // @ts-expect-error a string is not a list of fields
    expect(() => withFields('/u', 'a,b')).toThrow(/got a string.*Pass \['a', 'b'\]/)
    expect(() => withFields('/u', [])).toThrow(/`fields` is empty. Omit withFields\(\)/)
    expect(() => withFields('/u', {})).toThrow(/no types/)
    expect(() => withFields('/u', ['a'], { stlye: 'repeat' } as never)).toThrow(
      /unknown option `stlye`. Did you mean `style`\?/,
    )
    expect(() => withFields('/u', ['a'], { style: 'graphql' } as never)).toThrow(
      /`style` must be 'comma' or 'repeat', got "graphql"/,
    )
    expect(() => withFields('/u', ['a'], { param: 'a&b' })).toThrow(
      /`param` must be a parameter name/,
    )
    expect(() => withFields(42 as unknown as string, ['a'])).toThrow(
      /`url` must be a string or a URL/,
    )
  })
})
